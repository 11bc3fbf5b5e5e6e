"""The command line: run, list, and one-line errors."""

import argparse
import json

import pandas as pd
import pytest

from benchbase.cli import main
from benchbase.results.record import COLUMNS


def test_list_json_shows_algorithms_datasets_and_origins(capsys):
    assert main(["list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    algorithms = {a["name"]: a for a in listing["algorithms"]}
    assert {"ELM", "RELM", "KELM"} <= set(algorithms)
    assert algorithms["KELM"]["distribution"] == "benchbase-suite"
    assert algorithms["KELM"]["available"] is True
    assert any(d["name"] == "digits" and d["embedded"] for d in listing["datasets"])
    assert all({"distribution", "version", "module"} <= set(p) for p in listing["plugins"])


def test_list_text(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "Algorithms:" in out and "KELM" in out and "digits" in out


def test_run_writes_the_documented_table_and_prints_a_summary(tmp_path, capsys):
    out_dir = tmp_path / "res"
    code = main(["run", "--algorithms", "KELM,ELM", "--datasets", "digits",
                 "--seeds", "2", "--out", str(out_dir), "--param", "ELM:n_hidden=300"])
    assert code == 0
    printed = capsys.readouterr()
    assert "KELM" in printed.out and "test acc %" in printed.out
    assert "[4/4]" in printed.err
    table = pd.read_csv(out_dir / "results.csv")
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == 4 and (table["status"] == "ok").all()
    assert set(table["protocol"]) == {"official"}
    elm = table[table["algorithm"] == "ELM"]
    assert all(json.loads(p) == {"n_hidden": 300} for p in elm["params"])
    kelm = table[table["algorithm"] == "KELM"]
    assert (kelm["test_accuracy"] >= 0.97).all()  # the bar for digits
    assert (kelm["n_candidates"] > 1).all()

    # Same command again: everything is skipped.
    assert main(["run", "--algorithms", "KELM,ELM", "--datasets", "digits",
                 "--seeds", "2", "--out", str(out_dir),
                 "--param", "ELM:n_hidden=300"]) == 0
    assert capsys.readouterr().err.count("already done, skipped") == 4


def test_the_run_summary_shows_each_swept_variant_as_its_own_row(tmp_path, capsys):
    suite = tmp_path / "sweep.toml"
    suite.write_text('seeds = [0, 1]\n[[experiment]]\ndatasets = ["digits"]\n'
                     'algorithms = ["ELM"]\n[experiment.sweep]\n'
                     'ELM = { n_hidden = [20, 200] }\n')
    assert main(["run", str(suite), "--out", str(tmp_path / "res")]) == 0
    summary = {line.split()[0]: line.split() for line in
               capsys.readouterr().out.splitlines() if line.lstrip().startswith("ELM")}
    assert set(summary) == {"ELM[n_hidden=20]", "ELM[n_hidden=200]"}
    assert all(row[3] == "2" for row in summary.values())  # the seeds column


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--algorithms", "NOPE"], "unknown algorithm 'NOPE'; known:"),
        (["run", "--datasets", "nope"], "unknown dataset 'nope'"),
        (["run", "--protocol", "weird"], "unknown protocol 'weird'"),
        (["run", "--seeds", "0"], "--seeds: the count must be at least 1, got 0"),
        (["run", "--threads", "0"], "--threads must be >= 1, got 0"),
        (["run", "--jobs", "0"], "--jobs must be >= 1, got 0"),
        (["run", "--algorithms", "KELM", "--param", "KELM:C"], "ALGORITHM:NAME=VALUE"),
        (["run", "--algorithms", "KELM", "--param", "ELM:C=1"], "not being run"),
        (["run", "--algorithms", "KELM", "--param", "KELM:gamma=1"],
         "has no parameter 'gamma'"),
    ],
)
def test_errors_are_one_clear_line(argv, message, tmp_path, capsys):
    code = main([*argv, "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert err.startswith("benchbase: error:") and message in err
    assert len(err.splitlines()) == 1


def test_invalid_hyperparameter_value_fails_the_trial_not_the_run(tmp_path, capsys):
    code = main(["run", "--algorithms", "KELM", "--datasets", "digits", "--seeds", "1",
                 "--param", "KELM:C=-5", "--out", str(tmp_path)])
    assert code == 1
    table = pd.read_csv(tmp_path / "results.csv")
    assert table.loc[0, "status"] == "error"
    assert "C must be a positive number, got -5" in table.loc[0, "error"]
    out = capsys.readouterr().out
    assert (f"failed trials (every error: the status and error columns of "
            f"{tmp_path / 'results.csv'}, or `benchbase report {tmp_path}`):") in out
    assert "  KELM on digits (official, seed 0): error: ValueError: C must be" in out


@pytest.mark.parametrize("command", [[], ["run"], ["list"]])
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: benchbase" in capsys.readouterr().out


def test_run_help_gives_every_options_default():
    from benchbase.cli.main import build_parser

    parser = build_parser()
    [subparsers] = [action for action in parser._actions
                    if isinstance(action, argparse._SubParsersAction)]
    run = subparsers.choices["run"]
    undocumented = [action.option_strings[0] for action in run._actions
                    if action.option_strings and action.dest != "help"
                    and "default" not in (action.help or "")]
    assert undocumented == []
