"""The wall-time model of a plan on N slots, and `benchbase run --dry-run --timings-from`."""

from __future__ import annotations

import pandas as pd
import pytest

from benchbase.cli import exits, main
from benchbase.plan.schedule import estimate, makespan, measured_seconds
from benchbase.results.record import COLUMNS
from benchbase.results.store import ResultStore
from benchbase.trial.splits import Protocol
from benchbase.trial.task import Trial


@pytest.mark.parametrize(("durations", "slots", "wall"), [
    ([3, 1, 1, 1], 2, 3),  # the long one first: the short ones fill the other slot
    ([1, 1, 1, 3], 2, 4),  # the long one last: it starts at 1 and ends at 4
    ([5, 5], 8, 5),  # more slots than trials
    ([2, 2, 2], 1, 6),
    ([], 4, 0),
])
def test_trials_go_in_order_to_the_first_free_slot(durations, slots, wall):
    assert makespan(durations, slots) == wall


def test_zero_slots_are_refused():
    with pytest.raises(ValueError, match="slots must be >= 1, got 0"):
        makespan([1.0], 0)


def _row(algorithm: str, seed: int, seconds: float, status: str = "ok") -> dict:
    row = dict.fromkeys(COLUMNS, "")
    row.update(trial_key=f"{algorithm}-{seed}", algorithm=algorithm, dataset="digits",
               protocol="official", seed=seed, status=status, trial_seconds=seconds,
               params="{}", test_accuracy=0.9)
    return row


def test_measured_seconds_are_medians_of_the_ok_trials():
    rows = pd.DataFrame([_row("A", 0, 10.0), _row("A", 1, 30.0), _row("A", 2, 11.0),
                         _row("B", 0, 99.0, status="timeout")])
    assert measured_seconds(rows) == {("A", "", "digits", "official"): 11.0}


def test_an_estimate_names_the_trials_it_has_no_time_for():
    trials = [Trial(name, "digits", Protocol.parse("official"), seed)
              for name in ("A", "B") for seed in range(3)]
    found = estimate(trials, {("A", "", "digits", "official"): 10.0}, slots=(1, 2))
    assert found.trials == 6 and found.total_s == 30.0 and found.longest_s == 10.0
    assert found.unmeasured == tuple(f"B on digits (official, seed {s})" for s in range(3))
    assert found.by_slots == {1: 30.0, 2: 20.0, 3: 10.0}


def test_dry_run_prints_the_expected_wall_time(tmp_path, capsys):
    store = ResultStore(tmp_path / "before")
    for seed in range(3):
        store.append(_row("KELM", seed, 40.0))
    assert main(["run", "--algorithms", "KELM,ELM", "--dry-run", "--out",
                 str(tmp_path / "next"), "--timings-from", str(tmp_path / "before")]) == 0
    out = capsys.readouterr().out
    assert ("Expected wall time of the 6 trials to run, from the trial times in "
            f"{tmp_path / 'before'} (3 measured; longest 40 s, 2 min in all):") in out
    assert "  1 slot: 2 min, 2 slots: 80 s, 3 slots: 40 s" in out
    assert "not measured there, left out: ELM on digits (official, seed 0)" in out


def test_timings_without_dry_run_or_results_are_refused(tmp_path, capsys):
    assert main(["run", "--timings-from", str(tmp_path), "--out", str(tmp_path)]) == \
        exits.USAGE
    assert "needs --dry-run" in capsys.readouterr().err
    assert main(["run", "--dry-run", "--timings-from", str(tmp_path / "nothing"),
                 "--out", str(tmp_path)]) == exits.USAGE
    assert capsys.readouterr().err.startswith("benchbase: error: --timings-from: ")


def test_rows_from_before_trial_seconds_count_their_stages():
    row = _row("A", 0, float("nan"))
    row.update(select_seconds=3.0, fit_seconds=2.0, predict_seconds=0.5)
    assert measured_seconds(pd.DataFrame([row])) == {("A", "", "digits", "official"): 5.5}
