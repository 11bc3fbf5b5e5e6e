"""The harness: honest selection, timing fields, resume, and failing plugins."""

import os
import time

import pytest
from doubles import CALLS, run_rows, toy_trials

from benchbase.execution.limits import Limits, OptionError
from benchbase.execution.orchestrator import RunOptions, run_trials
from benchbase.results.record import COLUMNS
from benchbase.results.store import ResultStore


def _run(catalog, store, algorithms, seeds=(0,), **options):
    events = []
    rows = run_rows(catalog, store, algorithms, seeds=seeds,
                    progress=lambda event, *rest: events.append(event), **options)
    return rows, events


def test_selection_uses_validation_only_and_tests_once(catalog, tmp_path):
    CALLS.clear()
    [row], _ = _run(catalog, ResultStore(tmp_path), ["Spy"], executor="inline")
    assert row["status"] == "ok"
    assert row["params"] == '{"good": true}'
    assert row["val_accuracy"] == 1.0 and row["test_accuracy"] == 1.0
    assert row["n_candidates"] == 2
    test_calls = [i for i, (_, top) in enumerate(CALLS) if top >= 0.5]
    assert len(test_calls) == 1  # the test data are predicted exactly once ...
    assert test_calls[0] >= 2 * 2 + 1  # ... after selection and the final fit
    # Selection fit on 80 % of the training part.
    assert CALLS[0] == ("fit", pytest.approx(CALLS[0][1]))


def test_rows_have_every_documented_field(catalog, tmp_path):
    [row], _ = _run(catalog, ResultStore(tmp_path), ["Spy"])
    assert set(row) == set(COLUMNS)
    assert row["fit_seconds"] >= 0 and row["fit_cpu_seconds"] >= 0
    assert row["peak_rss_mb"] > 10  # a Python process with numpy
    assert row["plugin"] == "toy-dist 0.1"
    assert row["n_train"] == 80 and row["n_test"] == 40


def test_rerun_skips_finished_trials(catalog, tmp_path):
    store = ResultStore(tmp_path)
    first, events = _run(catalog, store, ["Spy"], seeds=(0, 1))
    assert events.count("done") == 2
    second, events = _run(catalog, store, ["Spy"], seeds=(0, 1, 2))
    assert events.count("skip") == 2 and events.count("done") == 1
    assert [r["trial_key"] for r in second[:2]] == [r["trial_key"] for r in first]
    assert len(store.rows()) == 3


def test_a_raising_plugin_is_recorded_and_the_run_goes_on(catalog, tmp_path):
    rows, _ = _run(catalog, ResultStore(tmp_path), ["Raising", "Spy"])
    assert [r["status"] for r in rows] == ["error", "ok"]
    assert "ValueError: bad parameter 'alpha'" in rows[0]["error"]


def test_a_crashing_plugin_is_recorded_and_the_run_goes_on(catalog, tmp_path):
    rows, _ = _run(catalog, ResultStore(tmp_path), ["Crashing", "Spy"])
    assert [r["status"] for r in rows] == ["crashed", "ok"]
    assert "signal 11" in rows[0]["error"]


def test_a_hanging_plugin_is_killed_at_the_timeout(catalog, tmp_path):
    start = time.perf_counter()
    rows, _ = _run(catalog, ResultStore(tmp_path), ["Hanging", "Spy"], timeout=2)
    assert [r["status"] for r in rows] == ["timeout", "ok"]
    assert "no result after 2 s" in rows[0]["error"]
    assert time.perf_counter() - start < 60


def test_failed_trials_are_retried(catalog, tmp_path):
    store = ResultStore(tmp_path)
    _run(catalog, store, ["Raising"])
    _, events = _run(catalog, store, ["Raising"])
    assert events.count("done") == 1


def test_unknown_fixed_parameter_is_refused_before_running(catalog, tmp_path):
    trials = toy_trials(["Spy"], params={"Spy": {"gamma": 1}})
    with pytest.raises(ValueError, match="has no parameter 'gamma'"):
        run_trials(catalog, trials, ResultStore(tmp_path))
    assert not (tmp_path / "trials.jsonl").exists()


def test_fixed_parameter_leaves_the_search(catalog, tmp_path):
    trials = toy_trials(["Spy"], params={"Spy": {"good": False}})
    [row] = run_trials(catalog, trials, ResultStore(tmp_path), RunOptions(executor="inline"))
    assert row["params"] == '{"good": false}' and row["n_candidates"] == 1
    assert row["test_accuracy"] == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("threads", 0, "threads must be >= 1"), ("timeout", -1, "timeout must be > 0"),
     ("memory_limit_mb", 0, "memory_limit_mb must be > 0")],
)
def test_run_limits_are_validated_where_they_are_made(option, value, message):
    with pytest.raises(OptionError, match=message) as raised:
        Limits(**{option: value})
    assert raised.value.option == option


def test_thread_limit_applies_in_the_trial_and_is_undone(catalog, tmp_path, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    [row], _ = _run(catalog, ResultStore(tmp_path), ["Spy"], executor="inline", threads=1)
    assert row["blas_threads"] == 1
    assert "OMP_NUM_THREADS" not in os.environ
