"""Executors: the hook, their options, threads and concurrency, same answers everywhere."""

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from doubles import run_rows
from processes import install_fake_plugin

from benchbase import plugins
from benchbase.cli import main
from benchbase.execution import ExecutorOptionError
from benchbase.execution.orchestrator import make_executor
from benchbase.plugins import load_catalog
from benchbase.results.provenance import usable_cores

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "executor_example" / "benchbase_nice_executor.py"
ANSWERS = ["trial_key", "status", "params", "val_accuracy", "test_accuracy",
           "train_accuracy", "n_candidates", "subset_hash"]


def test_benchbase_register_executors_adds_a_third_party_executor(site, tmp_path, capsys):
    install_fake_plugin(site, "nice-executor", "benchbase_nice_executor",
                        EXAMPLE.read_text(), version="0.3")
    assert main(["list", "--json"]) == 0
    executors = {e["name"]: e for e in json.loads(capsys.readouterr().out)["executors"]}
    assert {"process", "inline", "dask", "nice"} <= set(executors)
    assert executors["nice"]["distribution"] == "nice-executor"
    assert main(["run", "--algorithms", "ELM", "--seeds", "1", "--executor", "nice",
                 "--executor-option", "nice=5", "--param", "ELM:n_hidden=100",
                 "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "results.csv")
    assert table.loc[0, "executor"] == "nice" and table.loc[0, "status"] == "ok"
    assert main(["run", "--algorithms", "ELM", "--executor", "nice", "--executor-option",
                 "speed=5", "--out", str(tmp_path / "out")]) == 2
    assert ("executor 'nice' takes no option 'speed'; its options: nice"
            in capsys.readouterr().err)


def test_plugins_doc_shows_the_executor_example_verbatim():
    doc = (ROOT / "docs" / "plugins.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    assert EXAMPLE.read_text().strip() in [block.strip() for block in blocks]


def test_executor_options_are_checked_against_the_factory():
    catalog = load_catalog()
    with pytest.raises(ExecutorOptionError, match="executor 'process' takes no option "
                       "'scheduler'; its options: jobs"):
        make_executor(catalog.executor("process"), {"scheduler": "tcp://x:1"})
    with pytest.raises(ExecutorOptionError, match="jobs must be >= 1, got 0"):
        make_executor(catalog.executor("process"), {"jobs": 0})


@pytest.mark.parametrize(("argv", "message"), [
    (["--executor", "inline", "--timeout", "5"],
     "the inline executor cannot stop a running trial"),
    (["--executor", "inline", "--memory-limit", "500"],
     "the inline executor cannot enforce a memory limit"),
    (["--jobs", "2", "--threads", str(usable_cores())],
     f"2 trials at once × {usable_cores()} threads each = {2 * usable_cores()} threads on "
     f"this machine, which has {usable_cores()} cores; use fewer, or --oversubscribe"),
    (["--executor", "inline", "--jobs", "2"], "executor 'inline' takes no option 'jobs'"),
    (["--executor", "nope"], "unknown executor 'nope'; known: process, inline, dask"),
    (["--timeout", "soon"], "expected seconds or 'none', got 'soon'"),
])
def test_execution_usage_errors_are_one_line_and_exit_2(tmp_path, capsys, argv, message):
    try:
        code = main(["run", "--algorithms", "ELM", "--out", str(tmp_path), *argv])
    except SystemExit as exit_info:  # argparse's own errors
        code = exit_info.code
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err.splitlines()[-1]  # argparse's own errors follow its usage
    assert not (tmp_path / "trials.jsonl").exists()


def test_oversubscribe_allows_more_threads_than_cores(tmp_path, capsys):
    assert main(["run", "--algorithms", "ELM", "--seeds", "1", "--param", "ELM:n_hidden=50",
                 "--jobs", "2", "--threads", str(usable_cores()), "--oversubscribe",
                 "--out", str(tmp_path)]) == 0
    assert pd.read_csv(tmp_path / "results.csv").loc[0, "threads"] == usable_cores()


def test_missing_dask_is_one_clear_line_with_the_install_hint(tmp_path, capsys,
                                                              monkeypatch):
    real = plugins.importlib.util.find_spec
    monkeypatch.setattr(plugins.importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    code = main(["run", "--algorithms", "ELM", "--dask-workers", "2", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err == ("benchbase: error: executor 'dask' is unavailable: missing distributed; "
                   "pip install 'benchbase-suite[dask]'")


def _rows(catalog, folder, algorithms=("ELM", "KELM"), seeds=(0, 1), **options):
    # A random subset of digits keeps KELM's grid search quick.
    return run_rows(catalog, folder, algorithms, datasets=["digits"],
                    protocol="subset:600/200", seeds=seeds,
                    params={"ELM": {"n_hidden": 200}}, **options)


def test_jobs_2_and_inline_give_the_serial_answers(catalog, tmp_path):
    serial = pd.DataFrame(_rows(catalog, tmp_path / "serial", threads=1))
    for name, options in [("jobs2", {"executor_options": {"jobs": 2}}),
                          ("inline", {"executor": "inline"})]:
        other = pd.DataFrame(_rows(catalog, tmp_path / name, threads=1, **options))
        pd.testing.assert_frame_equal(other[ANSWERS], serial[ANSWERS])
    assert set(serial["concurrency"]) == {1} and set(serial["executor"]) == {"process"}
    # The whole trial holds its selection, fit and prediction (and more: a
    # process, the data).
    stages = serial[["select_seconds", "fit_seconds", "predict_seconds"]].sum(axis=1)
    assert (serial["trial_seconds"] > stages).all()
    assert set(other["executor"]) == {"inline"}
    jobs2 = pd.read_csv(tmp_path / "jobs2" / "results.csv")
    assert jobs2["concurrency"].max() == 2  # four trials, two slots: they overlapped
    assert set(jobs2["threads"]) == {1}


def test_default_threads_share_the_cores_out(catalog, tmp_path):
    [row] = _rows(catalog, tmp_path, ["ELM"], [0], executor_options={"jobs": 2})
    assert row["threads"] == max(1, usable_cores() // 2)


def test_trial_processes_start_without_numpys_huge_page_advice_unless_asked(catalog, tmp_path):
    # A user's NUMPY_MADVISE_HUGEPAGE wins (the fork server may have started
    # earlier in this session, with the same environment as now).
    asked = os.environ.get("NUMPY_MADVISE_HUGEPAGE")
    [row] = _rows(catalog, tmp_path, ["ELM"], [0])
    environment = json.loads(row["environment"])
    assert environment["numpy_madvise_hugepage"] == (asked if asked is not None else "0")
    assert os.environ.get("NUMPY_MADVISE_HUGEPAGE") == asked  # nothing left behind


def test_the_trial_launchers_preload_leaves_numba_unimported():
    # The forkserver imports every planned algorithm's modules once; a Numba
    # imported there starts its pool before a trial caps its threads, and a
    # DDAE trial of `run paper --jobs 2` then failed ("Cannot set
    # NUMBA_NUM_THREADS ... once the threads have been launched").
    import subprocess
    import sys

    from benchbase.plan.planner import trial_modules

    algorithms = load_catalog().algorithms
    modules = [name for name in trial_modules([algorithms.get(n) for n in algorithms])
               if name != "torch"]  # slow to import, and it imports no Numba
    code = ("import importlib, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'numba')[:1])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert "benchbase_elm.kelm" in modules
    assert done.stdout.strip() == "[]"


def test_threads_reach_blas_torch_and_numba_in_a_ddae_trial(catalog, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("numba")
    [row] = run_rows(catalog, tmp_path, ["DDAE"], datasets=["digits"],
                     protocol="subset:300/100",
                     params={"DDAE": {"epochs": 1, "n_hidden1": 64, "n_hidden2": 32,
                                      "keep_prob": 0.5, "kernel_width": 1.0,
                                      "device": "cpu"}}, threads=1)
    assert row["status"] == "ok", row["error"]
    environment = json.loads(row["environment"])
    # Numba's pool used to reset OpenMP to every core, which torch then used.
    assert environment["threads"] == {"torch": 1, "numba": 1}
    assert row["blas_threads"] == 1 and row["threads"] == 1
