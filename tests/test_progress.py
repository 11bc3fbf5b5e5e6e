"""Progress for people: done/total, failures, elapsed, ETA, running trials."""

import io
import os

from benchbase.cli import progress
from benchbase.cli.progress import ProgressReport, clock_text
from benchbase.trial.splits import Protocol
from benchbase.trial.task import Trial


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _trial(seed, algorithm="ELM"):
    return Trial(algorithm, "digits", Protocol.parse("official"), seed)


OK = {"status": "ok", "test_accuracy": 0.975, "fit_seconds": 0.5, "select_seconds": 2.0}
FAILED = {"status": "timeout", "error": "no result after 5 s; the trial was killed\nmore"}


def test_plain_lines_carry_counts_elapsed_eta_and_running_trials():
    stream, clock = io.StringIO(), Clock()
    report = ProgressReport(4, stream, live=False, clock=clock)
    report("skip", _trial(0), OK)
    report("start", _trial(1), None)
    report("start", _trial(2), None)
    clock.now += 10
    report("done", _trial(1), OK)
    clock.now += 10
    report("done", _trial(2), FAILED)
    report("wait", None, None)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "[1/4] ELM on digits (official, seed 0): already done, skipped",
        "[start] ELM on digits (official, seed 1) · 0 failed · 0:00 elapsed · ETA ? "
        "· 1 running",
        "[start] ELM on digits (official, seed 2) · 0 failed · 0:00 elapsed · ETA ? "
        "· 2 running",
        "[2/4] ELM on digits (official, seed 1): test 97.50%, fit 0.50s, select 2.0s "
        "· 0 failed · 0:10 elapsed · ETA 0:20 · 1 running",
        "[3/4] ELM on digits (official, seed 2): TIMEOUT: no result after 5 s; the trial "
        "was killed · 1 failed · 0:20 elapsed · ETA 0:10 · 0 running",
    ]


def test_a_terminal_gets_a_bar_redrawn_in_place_with_the_running_trials(monkeypatch):
    width = [120]
    monkeypatch.setattr(progress.shutil, "get_terminal_size",
                        lambda: os.terminal_size((width[0], 24)))
    stream, clock = io.StringIO(), Clock()
    report = ProgressReport(2, stream, live=True, clock=clock)
    report("start", _trial(0, "KELM"), None)
    clock.now += 65
    report("wait", None, None)
    status = stream.getvalue().rsplit("\r\x1b[2K", 1)[1]
    assert status.startswith("[....................] 0/2 · 0 failed · 1:05 elapsed")
    assert status.endswith("ETA ? · running KELM digits s0 (1:05)")
    width[0] = 40
    clock.now += 1  # redraws come at most every REDRAW_S
    report("wait", None, None)
    status = stream.getvalue().rsplit("\r\x1b[2K", 1)[1]
    assert status == "[....................] 0/2 · 0 failed …"  # the terminal's width
    report("done", _trial(0, "KELM"), OK)
    out = stream.getvalue()
    assert "\r\x1b[2K[1/2] KELM on digits (official, seed 0): test 97.50%" in out
    assert out.rsplit("\r\x1b[2K", 1)[1].startswith("[##########..........] 1/2")
    report.close()
    assert stream.getvalue().endswith("\r\x1b[2K")


def test_clock_text():
    assert [clock_text(s) for s in (0, 59.6, 61, 3600 * 5 + 7)] == [
        "0:00", "1:00", "1:01", "5:00:07"]


def test_a_trial_run_again_alone_says_why_and_counts_once():
    stream, clock = io.StringIO(), Clock()
    report = ProgressReport(2, stream, live=False, clock=clock)
    report("start", _trial(0, "DDAE"), None)
    report("start", _trial(1), None)
    report("retry", _trial(0, "DDAE"), {"status": "memory", "concurrency": 2,
                                        "error": "MemoryError: over the budget\nmore"})
    report("done", _trial(1), OK)
    report("start", _trial(0, "DDAE"), None)
    report("done", _trial(0, "DDAE"), OK)
    lines = stream.getvalue().splitlines()
    assert lines[2] == ("[retry] DDAE on digits (official, seed 0): MEMORY: MemoryError: "
                        "over the budget; beside 1 other trial(s): it runs again alone once "
                        "the rest are done · 0 failed · 0:00 elapsed · ETA ? · 1 running")
    assert lines[-1].startswith("[2/2] DDAE on digits (official, seed 0): test 97.50%")
    assert report.failed == 0 and report.done == 2


def test_a_trial_held_for_memory_says_why():
    stream, clock = io.StringIO(), Clock()
    report = ProgressReport(2, stream, live=False, clock=clock)
    report("start", _trial(1), None)
    report("hold", _trial(0, "DDAE"), {"peak_mb": 14 * 1024, "beside_mb": 9.5 * 1024,
                                       "room_mb": 21.6 * 1024})
    assert stream.getvalue().splitlines()[-1] == (
        "[hold] DDAE on digits (official, seed 0): its kind peaked at 14.0 GiB; beside "
        "the running trials' 9.5 GiB that passes the 21.6 GiB trials may share here, so "
        "it starts when memory frees · 0 failed · 0:00 elapsed · ETA ? · 1 running")
    assert report.done == 0


def test_the_eta_is_the_schedule_models_scaled_by_the_finished_trials():
    stream, clock = io.StringIO(), Clock()
    report = ProgressReport(3, stream, live=False, clock=clock)
    labels = [_trial(seed).label() for seed in range(3)]
    # Two slots; the model expects 100, 60 and 40 s: the 40 follows the 60.
    report("schedule", None, {"slots": 2, "trials": 3, "measured": 3, "predicted_s": 100,
                              "room_mb": None, "expected": [(labels[0], 100, 0),
                                                            (labels[1], 60, 0),
                                                            (labels[2], 40, 0)]})
    report("start", _trial(0), None)
    report("start", _trial(1), None)
    assert stream.getvalue().splitlines()[-1].endswith("ETA 1:40 · 2 running")
    clock.now += 30  # the model's time passes between events too
    assert report._eta(clock.now) == "1:10"
    clock.now += 0  # the 60 s trial ends at 30 s: this run goes at half the expected time
    report("done", _trial(1), OK)
    # The 100 s trial has 50 - 30 = 20 s left at that pace; the 40 s one takes 20.
    assert stream.getvalue().splitlines()[-1].endswith("ETA 0:20 · 1 running")
    report("start", _trial(2), None)
    clock.now += 20
    report("done", _trial(0), OK)
    report("done", _trial(2), OK)
    assert stream.getvalue().splitlines()[-1].endswith("ETA 0:00 · 0 running")


def test_the_eta_keeps_the_memory_rule_and_waits_for_a_size_based_schedule():
    stream, clock = io.StringIO(), Clock()
    report = ProgressReport(3, stream, live=False, clock=clock)
    labels = [_trial(seed).label() for seed in range(3)]
    # Nothing measured: sizes in no unit, so no ETA before a trial ends.
    report("schedule", None, {"slots": 2, "trials": 3, "measured": 0, "predicted_s": None,
                              "room_mb": 10.0, "expected": [(labels[0], 4, 6),
                                                            (labels[1], 4, 6),
                                                            (labels[2], 2, 1)]})
    report("start", _trial(0), None)
    report("start", _trial(2), None)  # the second big one waits for memory
    assert "ETA ?" in stream.getvalue().splitlines()[-1]
    clock.now += 20
    report("done", _trial(2), OK)  # size 2 in 20 s: 10 s per unit
    # The first has 40 - 20 = 20 s left; the second may start only after it: 40 more.
    assert stream.getvalue().splitlines()[-1].endswith("ETA 1:00 · 1 running")
