"""Command-line conventions, the same in every subcommand (README's table)."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import benchbase
from benchbase.cli import exits, main
from benchbase.plugins import load_catalog


def _code_and_error(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize("argv", [
    ["run", "--algorithms", "NOPE"],
    ["run", "--algorithms", "KELM", "--param", "KELM:gamma=1"],  # exit 1 before
    ["run", "--algorithms", "KELM", "--param", "KELM:C=abc", "--dry-run"],  # passed before
    ["run", "--algorithms", "RELM", "--param", "RELM:n_hidden=1.5", "--dry-run"],
    ["run", "--threads", "0"],
    ["run", "--seeds", "7-3"],
    ["run", "--data-dir", "/no/such/folder"],
    ["run", "no-such-suite"],
    ["run", "--selection", "random"],
    ["data", "info", "nope"],  # exit 1 before
    ["data", "list", "--data-dir", "/no/such/folder"],
    ["report", "/no/such/results"],
    ["report", ".", "--rope", "abc"],
    ["compare", "/no/such/a", "/no/such/b"],
    ["frobnicate"],
])
def test_every_usage_error_exits_2_with_one_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code, err = _code_and_error(argv, capsys)
    except SystemExit as exit_info:  # argparse's own usage errors
        code, err = exit_info.code, capsys.readouterr().err.strip().splitlines()[-1]
    assert code == exits.USAGE, (argv, err)
    assert "error" in err
    assert not (tmp_path / "results").exists()  # nothing was run


def test_the_report_of_a_missing_folder_names_it(capsys, tmp_path):
    code, err = _code_and_error(["report", str(tmp_path / "gone")], capsys)
    assert code == exits.USAGE and "gone: no such results folder" in err


def test_names_are_matched_without_case_and_stored_as_registered(tmp_path, capsys):
    code = main(["run", "--algorithms", "kelm", "--datasets", "DIGITS", "--seeds", "1",
                 "--out", str(tmp_path), "--threads", "1"])
    assert code == exits.OK
    [row] = [json.loads(line) for line in (tmp_path / "trials.jsonl").read_text()
             .splitlines()]
    assert (row["algorithm"], row["dataset"]) == ("KELM", "digits")


def test_unknown_names_suggest_the_closest(capsys):
    code, err = _code_and_error(["run", "--algorithms", "KELN"], capsys)
    assert code == exits.USAGE and "(did you mean 'KELM'?)" in err
    code, err = _code_and_error(["run", "--datasets", "mnits"], capsys)
    assert "(did you mean 'mnist'?)" in err
    code, err = _code_and_error(["run", "papr"], capsys)
    assert "unknown suite 'papr' (did you mean 'paper'?)" in err


@pytest.mark.parametrize(("seeds", "expected"), [("2", [0, 1]), ("4,1", [4, 1]),
                                                 ("10-12", [10, 11, 12])])
def test_seeds_are_a_count_a_list_or_a_range_and_dry_run_only_plans(
        seeds, expected, tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", "--algorithms", "KELM", "--seeds", seeds, "--dry-run",
                 "--out", str(out)]) == exits.OK
    lines = capsys.readouterr().out.splitlines()
    planned = [line for line in lines if line.startswith("KELM on digits")]
    assert [int(line.split("seed ")[1].split(")")[0]) for line in planned] == expected
    assert all("16 candidate(s) by grid; to run" in line for line in planned)
    assert f"{len(expected)} trials, {len(expected)} to run, into {out}" in lines
    assert not out.exists()


def test_dry_run_shows_what_is_already_done(tmp_path, capsys):
    argv = ["run", "--algorithms", "KELM", "--seeds", "2", "--out", str(tmp_path),
            "--threads", "1"]
    assert main([*argv[:4], "1", *argv[5:]]) == exits.OK
    capsys.readouterr()
    assert main([*argv, "--dry-run"]) == exits.OK
    out = capsys.readouterr().out
    assert "(official, seed 0): 16 candidate(s) by grid; done" in out
    assert "(official, seed 1): 16 candidate(s) by grid; to run" in out


@pytest.mark.parametrize(("param", "message"), [
    ("KELM:C=abc", "algorithm 'KELM': C='abc' is not a number (its default is 1.0)"),
    ("RELM:n_hidden=2000.0", "algorithm 'RELM': n_hidden=2000.0 is not an integer"),
    ("KELM:n_centers=2000", None),  # its default is "auto": the fit checks it
    ("RELM:n_hidden=2000", None),
    ("KELM:C=1", None),  # an integer is a number
])
def test_param_values_are_checked_when_planning(param, message, tmp_path, capsys):
    code = main(["run", "--algorithms", param.split(":")[0], "--param", param,
                 "--dry-run", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    if message is None:
        assert code == exits.OK, err
    else:
        assert code == exits.USAGE and message in err


def test_failed_trials_exit_1(tmp_path, capsys):
    assert main(["run", "--algorithms", "KELM", "--seeds", "1", "--param", "KELM:C=-1",
                 "--out", str(tmp_path)]) == exits.FAILED


def test_python_dash_m_benchbase_is_the_same_command():
    done = subprocess.run([sys.executable, "-m", "benchbase", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"benchbase {benchbase.__version__}"


@pytest.mark.parametrize("argv", [["list"], ["data", "info", "digits"], ["--help"]])
def test_a_closed_pipe_is_not_an_error(argv, tmp_path):
    # `benchbase list | head -1`: the reader has left. Closing the read end
    # before the command starts makes its first write fail, every time.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "benchbase", *argv], stdout=write_end,
                              stderr=subprocess.PIPE, cwd=tmp_path, timeout=120)
    finally:
        os.close(write_end)
    assert done.returncode == 0 and done.stderr == b"", (argv, done.stderr)


def test_list_aligns_columns_and_says_what_is_unavailable_and_why(capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    assert main(["list"]) == exits.OK
    lines = capsys.readouterr().out.splitlines()
    algorithms = lines[1:lines.index("Datasets:")]
    starts = {line.index("(benchbase-suite") for line in algorithms}
    assert len(starts) == 1  # the origin column lines up
    ddae = next(line for line in algorithms if line.split()[0] == "DDAE")
    assert "[unavailable: missing torch; pip install 'benchbase-suite[ae]']" in ddae
    assert any(line.split()[0] == "idx:PATH" for line in lines)
    assert any(line.split()[0] == "paper" for line in lines)


def test_a_run_without_torch_says_the_autoencoders_were_left_out(capsys, monkeypatch,
                                                                 tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    assert main(["run", "--dry-run", "--out", str(tmp_path)]) == exits.OK
    captured = capsys.readouterr()
    assert ("note: AE, DAE, DDAE, SAE unavailable and left out (pip install "
            "'benchbase-suite[ae]')") in captured.err
    assert "DDAE on" not in captured.out and "KELM on digits" in captured.out
    # Nothing is left out of a run that names its algorithms, and an error
    # stays one line without the note before it.
    assert main(["run", "--algorithms", "KELM", "--dry-run", "--out", str(tmp_path)]) == 0
    assert "note:" not in capsys.readouterr().err
    assert main(["run", "--threads", "0", "--out", str(tmp_path)]) == exits.USAGE
    assert capsys.readouterr().err.strip() == "benchbase: error: --threads must be >= 1, got 0"
    # Naming an unavailable algorithm is refused rather than left out.
    assert main(["run", "--algorithms", "DDAE", "--out", str(tmp_path)]) == exits.FAILED
    assert "algorithm 'DDAE' is unavailable: missing torch" in capsys.readouterr().err


def test_benchbase_register_dataset_forms_are_listed(capsys):
    catalog = load_catalog()
    assert [form.pattern for form in catalog.dataset_forms.specs()] == ["idx:PATH"]
    main(["list", "--json"])
    [form] = json.loads(capsys.readouterr().out)["dataset_forms"]
    assert form["pattern"] == "idx:PATH" and "IDX" in form["description"]


def test_labels_outside_the_declared_classes_are_refused_at_load():
    def load(context):
        X = np.zeros((4, 4), np.float32)
        return benchbase.Dataset("toy", X, np.array([0, 1, 2, 5]), X, np.arange(4), (2, 2))

    spec = benchbase.DatasetSpec(name="toy", load=load, classes=range(4))
    with pytest.raises(ValueError, match=r"'toy': train labels 5 are not among its "
                                         r"declared classes \(0, 1, 2, 3\)"):
        spec.open(benchbase.DataContext())


def test_shell_completion_completes_subcommands(tmp_path):
    out = tmp_path / "completions"
    env = {**os.environ, "_ARGCOMPLETE": "1", "COMP_LINE": "benchbase ru",
           "COMP_POINT": "12", "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
           "_ARGCOMPLETE_IFS": "\n"}
    done = subprocess.run([sys.executable, "-m", "benchbase"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert out.read_text().split() == ["run"]


def test_an_unwritable_results_folder_is_refused_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = blocker / "results"
    assert main(["run", "--algorithms", "ELM", "--out", str(out)]) == exits.USAGE
    assert capsys.readouterr().err.splitlines() == [
        f"benchbase: error: results folder {out} cannot be written (Not a directory)"]
    if os.geteuid() != 0:  # root writes anywhere: a read-only folder stops others only
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert main(["run", "--algorithms", "ELM", "--out", str(locked)]) == exits.USAGE
        assert "cannot be written (Permission denied)" in capsys.readouterr().err


@pytest.mark.filterwarnings("default::UserWarning")  # as a user's shell shows them
def test_a_malformed_line_is_one_warning_and_the_report_names_it(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["run", "--algorithms", "ELM", "--seeds", "2", "--param", "ELM:n_hidden=50",
            "--out", str(out)]
    assert main(argv) == 0
    log = out / "trials.jsonl"
    first, second = log.read_text().splitlines()
    log.write_text(f'{first}\n{{"trial_key": "torn", "alg\n{second}\n')  # in the middle
    capsys.readouterr()
    assert main(argv) == 0  # both trials are still there: nothing to run again
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warned == [f"benchbase: warning: {log}:2: ignoring an unreadable line (not "
                      "JSON: an interrupted write?)"]
    assert main(["report", str(out), "--out", str(tmp_path / "report"), "--format",
                 "md"]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert (f"1 line(s) of {log} could not be read as a result row (line 2: not JSON: an "
            "interrupted write?); their trials are not in this report.") in text


def test_a_dry_run_never_downloads(tmp_path, capsys, monkeypatch):
    from benchbase.data import files

    monkeypatch.delenv("BENCHBASE_DATA", raising=False)
    monkeypatch.setenv("BENCHBASE_CACHE", str(tmp_path / "cache"))  # empty: nothing here
    opened = []
    monkeypatch.setattr(files, "_urlopen", lambda url: opened.append(url))
    code = main(["run", "--algorithms", "KELM", "--datasets", "usps", "--dry-run",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert opened == []
    assert code == exits.FAILED
    assert "downloads are disabled; run `benchbase data fetch usps`" in err


def test_list_fits_the_terminals_width(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "72")
    assert main(["list"]) == exits.OK
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= 72
    algorithms = lines[1:lines.index("Datasets:")]
    names = [line.split()[0] for line in algorithms if not line.startswith("   ")]
    assert names == list(load_catalog().algorithms)
    # continuation lines sit under the description column
    assert all(line.startswith(" " * 15) for line in algorithms if line.startswith("   "))
