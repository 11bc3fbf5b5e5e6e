"""The wall-time model of a plan on N slots, and `benchbase run --dry-run --timings-from`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from benchbase.cli import exits, main
from benchbase.execution.orchestrator import RunOptions, run_trials
from benchbase.plan.schedule import (
    best_order,
    estimate,
    longest_first,
    makespan,
    measured_peak_mb,
    measured_seconds,
    peak_memory_toml,
    timings_toml,
)
from benchbase.plan.suites import Overrides, SuiteError, parse_suite, plan_suite
from benchbase.plugins import load_catalog
from benchbase.results.record import COLUMNS
from benchbase.results.store import ResultStore, read_table
from benchbase.timing import host_memory_mb
from benchbase.trial.splits import Protocol
from benchbase.trial.task import Trial

REPORTS = Path(__file__).parent.parent / "reports"


@pytest.mark.parametrize(("durations", "slots", "wall"), [
    ([3, 1, 1, 1], 2, 3),  # the long one first: the short ones fill the other slot
    ([1, 1, 1, 3], 2, 4),  # the long one last: it starts at 1 and ends at 4
    ([5, 5], 8, 5),  # more slots than trials
    ([2, 2, 2], 1, 6),
    ([], 4, 0),
])
def test_trials_go_in_order_to_the_first_free_slot(durations, slots, wall):
    assert makespan(durations, slots) == wall


def test_the_model_keeps_trials_whose_memory_does_not_fit_apart():
    # The two big ones (6 of 10 units each) never overlap; the small ones fill in.
    assert makespan([3, 3, 1, 1], 2, peaks=[6, 6, 1, 1], room=10) == 6
    assert makespan([3, 3, 1, 1], 2) == 4
    # One over the room runs, but alone: the other waits for it.
    assert makespan([2, 5], 2, peaks=[100, 1], room=10) == 7
    assert makespan([], 2, peaks=[], room=10) == 0


def test_trials_already_running_hold_their_slots_until_their_time_is_up():
    # One slot busy for 5 more seconds: the 4 and the 3 share the other.
    assert makespan([4, 3], 2, busy=[(5, 0)]) == 7
    assert makespan([], 2, busy=[(5, 0), (2, 0)]) == 5
    # With memory: the running 6-unit trial keeps the next 6-unit one waiting.
    assert makespan([3, 1], 2, peaks=[6, 1], room=10, busy=[(2, 6)]) == 5
    assert makespan([3, 1], 2, peaks=[6, 1], room=10) == 3


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


def test_timings_from_a_folder_without_results_are_refused(tmp_path, capsys):
    for dry_run in ([], ["--dry-run"]):
        assert main(["run", *dry_run, "--timings-from", str(tmp_path / "nothing"),
                     "--out", str(tmp_path)]) == exits.USAGE
        assert capsys.readouterr().err.startswith("benchbase: error: --timings-from: ")


def test_rows_from_before_trial_seconds_count_their_stages():
    row = _row("A", 0, float("nan"))
    row.update(select_seconds=3.0, fit_seconds=2.0, predict_seconds=0.5)
    assert measured_seconds(pd.DataFrame([row])) == {("A", "", "digits", "official"): 5.5}


# --- the order trials start in ----------------------------------------------------


def _planned(algorithm, seed, *, n_train=100, grid=None, dataset="digits"):
    fields = {"algorithm": algorithm, "variant": "", "dataset": dataset,
              "protocol": "official", "n_train": n_train,
              "search_space": json.dumps(grid or {})}
    return SimpleNamespace(key=f"{algorithm}-{seed}", fields=fields)


def test_longest_first_starts_the_slowest_kind_and_keeps_plan_order_in_ties():
    planned = [_planned(name, seed) for seed in range(2) for name in ("A", "B", "C")]
    measured = {("A", "", "digits", "official"): 5.0, ("B", "", "digits", "official"): 50.0,
                ("C", "", "digits", "official"): 5.0}
    schedule = longest_first(planned, measured)
    assert schedule.order == ("B-0", "B-1", "A-0", "C-0", "A-1", "C-1")
    assert schedule.measured == 6
    assert schedule.predicted_wall(2) == 60.0  # B, B on two slots, then 4 × 5 s


def test_unmeasured_trials_are_sized_and_scaled_by_the_measured_ones():
    # A took 10 s for a size of 100 rows × 2 candidates: 0.05 s per unit.
    planned = [_planned("A", 0, grid={"C": [1, 2]}), _planned("New", 0, n_train=1000,
                                                              grid={"C": [1, 2, 3]})]
    schedule = longest_first(planned, {("A", "", "digits", "official"): 10.0})
    assert schedule.expected == {"A-0": 10.0, "New-0": pytest.approx(150.0)}
    assert schedule.order == ("New-0", "A-0")
    nothing = longest_first(planned, {})
    assert nothing.order == ("New-0", "A-0") and nothing.predicted_wall(2) is None


def _committed_trials(suite_name):
    """The committed run's trials in the suite's plan order, each with its own
    measured seconds, and the kind medians a new run would order them by."""
    suite = load_catalog().suite(suite_name)
    rows = read_table(REPORTS / suite_name / "results")
    # Rows from before trial_seconds existed: their stages' sum, as the model does.
    stages = rows[["select_seconds", "fit_seconds", "predict_seconds"]].sum(axis=1)
    rows = rows.assign(trial_seconds=rows["trial_seconds"].fillna(stages))
    seconds = {(row.algorithm, row.dataset, row.seed): float(row.trial_seconds)
               for row in rows.itertuples()}
    trials = [trial for trial in
              plan_suite(suite, [], [], Overrides(seeds=tuple(sorted(set(rows.seed)))))
              if (trial.algorithm, trial.dataset, trial.seed) in seconds]  # what ran
    durations = [seconds[trial.algorithm, trial.dataset, trial.seed] for trial in trials]
    medians = measured_seconds(rows)
    expected = [medians[trial.algorithm, trial.variant, trial.dataset, str(trial.protocol)]
                for trial in trials]
    return durations, expected


@pytest.mark.parametrize("suite_name", ["paper", "full"])
def test_longest_first_is_near_the_best_order_on_the_committed_suites(suite_name):
    durations, expected = _committed_trials(suite_name)
    slots = 2  # --jobs 2, as the committed rows ran
    # The order a run takes: the kinds' medians, longest first (stable).
    new = sorted(range(len(durations)), key=lambda i: -expected[i])
    wall = {name: makespan([durations[i] for i in order], slots) for name, order in {
        "plan": range(len(durations)), "longest first": new,
        "best found": best_order(durations, slots)}.items()}
    bound = max(max(durations), sum(durations) / slots)
    assert wall["best found"] >= bound - 1e-6
    assert wall["longest first"] <= wall["plan"]
    assert wall["longest first"] <= 1.05 * wall["best found"], wall


def test_best_order_finds_what_longest_first_misses():
    # LPT's classic bad case on 2 slots: 3, 3, 2, 2, 2 → 7; the best is 6.
    durations = [3, 3, 2, 2, 2]
    assert makespan(sorted(durations, reverse=True), 2) == 7
    order = best_order(durations, 2)
    assert sorted(order) == list(range(5))
    assert makespan([durations[i] for i in order], 2) == 6


def test_a_suite_file_names_its_timings_by_kind(tmp_path):
    measured = {("DDAE", "keep_prob=0.5", "mnist", "paper"): 512.0,
                ("ELM", "", "usps", "official"): 18.5}
    text = ('description = "t"\nseeds = 1\n[[experiment]]\ndatasets = ["digits"]\n'
            'protocol = "official"\n' + timings_toml(measured))
    assert parse_suite(text, "t.toml").timings == measured
    bad = text.replace('"ELM on usps (official)"', '"ELM usps"')
    with pytest.raises(SuiteError, match=r"t.toml: timings: 'ELM usps' is not "):
        parse_suite(bad, "t.toml")
    with pytest.raises(SuiteError, match="must be a positive number of seconds"):
        parse_suite(text.replace("= 18.5", "= -1"), "t.toml")


def test_peak_memory_is_the_largest_of_the_ok_trials_and_a_suite_can_store_it(tmp_path):
    rows = pd.DataFrame([_row("A", 0, 10.0), _row("A", 1, 30.0), _row("B", 0, 9.0),
                         _row("C", 0, 99.0, status="memory")])
    rows["peak_rss_mb"] = [900.0, 1200.0, float("nan"), 5000.0]
    peaks = measured_peak_mb(rows)
    assert peaks == {("A", "", "digits", "official"): 1200.0}
    text = ('description = "t"\nseeds = 1\n[[experiment]]\ndatasets = ["digits"]\n'
            'protocol = "official"\n' + peak_memory_toml(peaks))
    assert parse_suite(text, "t.toml").peak_memory_mb == peaks
    with pytest.raises(SuiteError, match=r"peak_memory_mb: 'A on digits \(official\)' must "
                       "be a positive number of MiB"):
        parse_suite(text.replace("= 1200", "= 0"), "t.toml")


def test_a_trial_whose_peak_does_not_fit_beside_the_running_ones_waits(catalog, tmp_path):
    # Two full-scale DDAE trials side by side held 20 of 24 GB and one ran out
    # of memory: a trial starts beside others only if the peaks measured for
    # their kinds fit the machine together; the next that fits goes first.
    from doubles import run_rows

    host = host_memory_mb()
    events = []
    rows = run_rows(
        catalog, tmp_path, ["TakesTwoSeconds", "Spy"], seeds=(0, 1),
        executor_options={"jobs": 2},
        timings={("TakesTwoSeconds", "", "toy", "official"): 2.0,
                 ("Spy", "", "toy", "official"): 0.1},
        peak_memory_mb={("TakesTwoSeconds", "", "toy", "official"): 0.6 * host,
                        ("Spy", "", "toy", "official"): 0.1 * host},
        progress=lambda event, trial, row: events.append(
            (event, f"{trial.algorithm} {trial.seed}" if trial else None, row)))
    assert all(row["status"] == "ok" for row in rows)
    order = [(event, name) for event, name, _ in events if event in ("start", "done")]
    # The second two-second trial is held until the first is done; the small
    # ones run beside the first.
    assert order.index(("start", "TakesTwoSeconds 1")) > order.index(
        ("done", "TakesTwoSeconds 0"))
    assert order.index(("start", "Spy 0")) < order.index(("done", "TakesTwoSeconds 0"))
    [(_, held, figures)] = [event for event in events if event[0] == "hold"]
    assert held == "TakesTwoSeconds 1"
    # Said once the trial it waits for has started, so the lines read in order.
    named = [(event, name) for event, name, _ in events]
    assert named.index(("hold", "TakesTwoSeconds 1")) > named.index(
        ("start", "TakesTwoSeconds 0"))
    assert figures["peak_mb"] == pytest.approx(0.6 * host)
    assert figures["room_mb"] == pytest.approx(0.9 * host)


def test_without_measured_peaks_trials_start_as_slots_free(catalog, tmp_path):
    from doubles import run_rows

    events = []
    rows = run_rows(catalog, tmp_path, ["TakesTwoSeconds"], seeds=(0, 1),
                    executor_options={"jobs": 2},
                    progress=lambda event, trial, row: events.append(event))
    assert [row["concurrency"] for row in rows] == [2, 2]
    assert "hold" not in events


def test_a_run_starts_the_longest_first_and_shows_the_prediction(tmp_path, capsys):
    from benchbase.cli.progress import ProgressReport

    store = ResultStore(tmp_path / "before")
    store.append(_row("ELM", 0, 0.5))
    store.append(_row("KELM", 0, 30.0))
    report = ProgressReport(4, stream=io.StringIO(), live=False)
    options = RunOptions(executor="inline", timings=measured_seconds(store.frame()))
    trials = [Trial(name, "digits", Protocol.parse("official"), seed)
              for seed in (1, 2) for name in ("ELM", "KELM")]
    run_trials(load_catalog(), trials, ResultStore(tmp_path / "next"), options, report)
    started = [line.split()[1] for line in report.stream.getvalue().splitlines()
               if line.startswith("[start]")]
    assert started == ["KELM", "KELM", "ELM", "ELM"]
    assert report.schedule == {
        "slots": 1, "trials": 4, "measured": 4, "predicted_s": 61.0, "room_mb": None,
        "expected": [(trials[i].label(), seconds, 0.0)
                     for i, seconds in ((1, 30.0), (3, 30.0), (0, 0.5), (2, 0.5))],
        "at": report.schedule["at"]}
    assert "the schedule model predicted 1:01 for 4 trial(s) on 1 slot(s)" in \
        report.schedule_note()


def test_a_second_run_into_the_folder_orders_by_its_times_and_prints_the_prediction(
        tmp_path, capsys):
    out = str(tmp_path / "out")
    assert main(["run", "--algorithms", "ELM,KELM", "--seeds", "1", "--out", out]) == 0
    assert "the schedule model predicted" not in capsys.readouterr().out  # nothing measured
    assert main(["run", "--algorithms", "ELM,KELM", "--seeds", "2", "--out", out]) == 0
    printed = capsys.readouterr().out
    assert "; the schedule model predicted " in printed
    assert "for 2 trial(s) on 1 slot(s), longest first (2 with times measured before)" \
        in printed
