"""A run's progress for people: done/total, failures, elapsed time, ETA, running trials.

On a terminal, finished trials scroll by as lines above one status line that
is redrawn in place (a bar, the counts, and the trials running with their
time so far). Elsewhere (a log file, CI), plain lines only: one when a trial
starts, one when it ends, each with the counts, elapsed time and ETA.

The ETA is the schedule model's (``benchbase.plan.schedule.makespan``): the
trials still to start, in the orchestrator's order and under its memory rule,
handed to the slots as the running trials free them, each expected to take
what its kind took before, scaled by how this run's finished trials compared
with their expectations. A run starts its longest trials first, so the
older rule (the remaining trials at the pace so far) was hours too high at
the start; it remains where the orchestrator sent no schedule.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from benchbase.plan.schedule import makespan
from benchbase.results.record import Status
from benchbase.trial.task import Trial

BAR_WIDTH = 20
#: Seconds between redraws of the status line (it also redraws on every event).
REDRAW_S = 0.5


def clock_text(seconds: float) -> str:
    """H:MM:SS, or M:SS under an hour."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def outcome_text(row: dict[str, Any]) -> str:
    if row["status"] == Status.OK:
        return (f"test {100 * row['test_accuracy']:.2f}%, fit {row['fit_seconds']:.2f}s, "
                f"select {row['select_seconds']:.1f}s")
    first_line = str(row.get("error", "")).strip().splitlines()[:1]
    return f"{row['status'].upper()}: {''.join(first_line)}"


class ProgressReport:
    """A ``progress`` callback for ``run_trials`` that writes to ``stream``."""

    def __init__(self, total: int, stream: TextIO | None = None, live: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.clock = clock
        self.done = self.failed = self.computed = 0
        self.first_start: float | None = None
        self.running: dict[str, tuple[str, float]] = {}
        #: The schedule model's figures ("schedule" event): slots, trials,
        #: measured, predicted_s, room_mb, expected, and when it came ("at").
        self.schedule: dict[str, Any] | None = None
        #: (expected seconds or size, peak MiB) per label of the schedule.
        self._expected: dict[str, tuple[float, float]] = {}
        #: Trials of the schedule not started yet, in start order.
        self._waiting: dict[str, None] = {}
        #: Seconds taken and expected by the finished trials of the schedule.
        self._taken_s = self._expected_s = 0.0
        #: The model's seconds left and when they were computed; recomputed
        #: at the first ETA shown after an event.
        self._model_eta: tuple[float, float] | None = None
        self._model_stale = False
        self._last_draw = -REDRAW_S
        self._status_shown = False

    def __call__(self, event: str, trial: Trial | None, row: dict[str, Any] | None) -> None:
        now = self.clock()
        self._model_stale = self._model_stale or event != "wait"
        if event == "schedule":
            self.schedule = dict(row, at=now)
            self._expected = {label: (expected, peak)
                              for label, expected, peak in row.get("expected", ())}
            self._waiting = dict.fromkeys(self._expected)
        elif event == "skip":
            self.done += 1
            self._line(f"[{self.done}/{self.total}] {trial.label()}: already done, skipped")
        elif event == "adopt":
            self._waiting.pop(trial.label(), None)
            self.done += 1
            self.failed += row["status"] != Status.OK
            self._line(f"[{self.done}/{self.total}] {trial.label()}: done by another run: "
                       f"{outcome_text(row)}")
        elif event == "start":
            self.first_start = now if self.first_start is None else self.first_start
            self.running[trial.label()] = (self._short(trial), now)
            self._waiting.pop(trial.label(), None)
            if not self.live:
                self._line(f"[start] {trial.label()}{self._counts(now)}")
        elif event == "retry":
            self.running.pop(trial.label(), None)
            self._waiting[trial.label()] = None  # last: it runs again after the rest
            self._line(f"[retry] {trial.label()}: {outcome_text(row)}; beside "
                       f"{row['concurrency'] - 1} other trial(s): it runs again alone "
                       f"once the rest are done{self._counts(now)}")
        elif event == "hold":
            self._line(f"[hold] {trial.label()}: its kind peaked at "
                       f"{row['peak_mb'] / 1024:.1f} GiB; beside the running trials' "
                       f"{row['beside_mb'] / 1024:.1f} GiB that passes the "
                       f"{row['room_mb'] / 1024:.1f} GiB trials may share here, so it "
                       f"starts when memory frees{self._counts(now)}")
        elif event == "done":
            self._count_taken(trial.label(), now)
            self.running.pop(trial.label(), None)
            self.done += 1
            self.computed += 1
            self.failed += row["status"] != Status.OK
            self._line(f"[{self.done}/{self.total}] {trial.label()}: {outcome_text(row)}"
                       f"{self._counts(now)}")
        if self.live and (event != "wait" or now - self._last_draw >= REDRAW_S):
            self._draw(now)

    def schedule_note(self) -> str | None:
        """The schedule model's predicted wall time beside the measured one."""
        if not self.schedule or self.schedule["predicted_s"] is None or not self.computed:
            return None
        found = self.schedule
        return (f"wall time {clock_text(self.clock() - found['at'])}; the schedule model "
                f"predicted {clock_text(found['predicted_s'])} for {found['trials']} "
                f"trial(s) on {found['slots']} slot(s), longest first "
                f"({found['measured']} with times measured before)")

    def close(self) -> None:
        """Remove the status line (the summary follows)."""
        if self._status_shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._status_shown = False

    @staticmethod
    def _short(trial: Trial) -> str:
        return f"{trial.algorithm} {trial.dataset} s{trial.seed}"

    def _count_taken(self, label: str, now: float) -> None:
        expected = self._expected.get(label)
        if expected is not None and label in self.running:
            self._taken_s += now - self.running[label][1]
            self._expected_s += expected[0]

    def _predict(self, now: float) -> tuple[float, float] | None:
        """(the model's seconds left, now), or None without a schedule or a scale:
        expectations are seconds where the schedule measured any, else sizes
        that the first finished trial turns into seconds."""
        if not self._expected:
            return None
        if self._expected_s > 0:
            scale = self._taken_s / self._expected_s
        elif self.schedule["measured"]:
            scale = 1.0
        else:
            return None
        expected = self._expected
        busy = [(max(0.0, scale * expected[label][0] - (now - since)), expected[label][1])
                for label, (_, since) in self.running.items() if label in expected]
        waiting = [expected[label] for label in self._waiting]
        return makespan([scale * seconds for seconds, _ in waiting], self.schedule["slots"],
                        [peak for _, peak in waiting], self.schedule.get("room_mb"),
                        busy), now

    def _eta(self, now: float) -> str:
        if self._model_stale:
            self._model_eta, self._model_stale = self._predict(now), False
        if self._model_eta is not None:
            left, at = self._model_eta
            return clock_text(max(0.0, left - (now - at)))
        if not self.computed or self.first_start is None:
            return "?"
        pace = (now - self.first_start) / self.computed
        return clock_text(pace * (self.total - self.done))

    def _counts(self, now: float, running: bool = True) -> str:
        elapsed = clock_text(now - self.first_start) if self.first_start is not None else "0:00"
        text = f" · {self.failed} failed · {elapsed} elapsed · ETA {self._eta(now)}"
        return text + (f" · {len(self.running)} running" if running else "")

    def _line(self, text: str) -> None:
        if self._status_shown:
            self.stream.write("\r\x1b[2K")
            self._status_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def _draw(self, now: float) -> None:
        filled = BAR_WIDTH * self.done // max(1, self.total)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        running = ", ".join(f"{name} ({clock_text(now - since)})"
                            for name, since in self.running.values())
        text = f"[{bar}] {self.done}/{self.total}{self._counts(now, running=False)}"
        if running:
            text += f" · running {running}"
        width = shutil.get_terminal_size().columns - 1
        if len(text) > width:
            text = text[:max(0, width - 1)] + "…"
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()
        self._status_shown = True
        self._last_draw = now
