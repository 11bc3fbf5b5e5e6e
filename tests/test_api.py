"""The Python API (docs/python-api.md): run, load, Results, and ``benchbase export``."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import benchbase
from benchbase.api import _run_argv
from benchbase.cli import exits, main

DOCS = Path(__file__).parents[1] / "docs" / "python-api.md"


def test_the_documented_example_runs_as_a_script_without_a_main_guard(tmp_path):
    [example] = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S)
    assert 'if __name__ == "__main__"' not in example
    (tmp_path / "example.py").write_text(example)
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "<benchbase.Results results/api-example: 4 trials, 0 failed>" in done.stdout
    assert (tmp_path / "results" / "api-example-report" / "report.md").exists()
    # Each trial ran once: the children did not run the script again.
    assert done.stderr.count("[start]") == 4


def test_arguments_are_the_command_lines():
    argv = _run_argv("paper", dict(
        algorithms=["KELM", "DDAE"], datasets="mnist", seeds=[0, 4], params={
            "KELM": {"C": 100, "dtype": "float64"}, "H-ELM": {"hidden": (500, 500)}},
        executor_options={"jobs": 2}, timeout=math.inf, offline=True, oversubscribe=False,
        jobs=None, out=Path("res")))
    assert argv == ["paper", "--algorithms", "KELM,DDAE", "--datasets", "mnist",
                    "--seeds", "0,4", "--timeout", "none", "--offline", "--out", "res",
                    "--param", "KELM:C=100", "--param", "KELM:dtype='float64'",
                    "--param", "H-ELM:hidden=(500, 500)", "--executor-option", "jobs=2"]
    assert _run_argv(None, dict(seeds=3, params=None, executor_options=None,
                                algorithms=None, datasets=None, timeout=None)) == [
        "--seeds", "3"]


@pytest.mark.parametrize(("arguments", "message"), [
    ({"algorithms": "KELN"}, "did you mean 'KELM'?"),
    ({"selection": "random"}, "argument --selection: invalid choice: 'random'"),
    ({"params": {"KELM": {"C": "abc"}}}, "C='abc' is not a number"),
    ({"jobs": 0}, "--jobs must be >= 1"),
])
def test_usage_mistakes_raise_value_error_with_the_command_lines_message(
        arguments, message, tmp_path):
    with pytest.raises(ValueError, match=re.escape(message)):
        benchbase.run(datasets="digits", out=tmp_path, **arguments)
    assert not any(tmp_path.iterdir())  # nothing was run


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "results"
    return benchbase.run(algorithms="KELM,ELM", datasets="digits", seeds=2,
                         executor="inline", params={"ELM": {"n_hidden": 100}}, out=out)


def test_to_pandas_spreads_every_json_field_into_columns(results):
    frame = results.to_pandas()
    assert len(frame) == len(results) == 4
    assert {"params.C", "params.kernel_width", "params.n_hidden", "environment.cpu",
            "fit_info.iterations", "search_space.C"} <= set(frame.columns)
    assert set(frame.loc[frame["algorithm"] == "ELM", "params.n_hidden"]) == {100}
    assert not any(isinstance(value, str) and value.startswith("{")
                   for column in frame.columns for value in frame[column])


def test_load_summary_compare_report_and_the_notebook_view(results, tmp_path):
    again = benchbase.load(results.folder)
    assert again.to_pandas().equals(results.to_pandas())
    summary = results.summary()
    assert list(summary["algorithm"]) == ["KELM", "ELM"]
    compared = again.compare(results)
    assert set(compared["algorithm"]) == {"KELM", "ELM"}
    assert (compared["delta"] == 0).all() and compared.attrs["notes"] == []
    written = results.report(tmp_path / "report", formats=["md"])
    assert "KELM" in (tmp_path / "report" / "report.md").read_text()
    assert tmp_path / "report" / "report.md" in written
    html = results._repr_html_()
    assert "4 trials, 0 failed" in html and "<table" in html
    with pytest.raises(FileNotFoundError, match="no such results folder"):
        benchbase.load(tmp_path / "nothing")


def test_export_writes_the_same_table(results, tmp_path, capsys):
    expected = results.to_pandas()
    assert main(["export", str(results.folder), "--out", str(tmp_path / "t.csv")]) == exits.OK
    exported = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert list(exported.columns) == list(expected.columns)
    assert exported["test_accuracy"].tolist() == expected["test_accuracy"].tolist()
    assert main(["export", str(results.folder), "--format", "json"]) == exits.OK
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line)["trial_key"] for line in lines] == expected["trial_key"].tolist()
    assert json.loads(lines[0])["params.C"] == expected["params.C"][0]
    assert main(["export", str(results.folder), "--format", "parquet"]) == exits.USAGE
    assert "name it with --out" in capsys.readouterr().err
