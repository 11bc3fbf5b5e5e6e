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
