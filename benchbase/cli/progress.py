"""A run's progress for people: done/total, failures, elapsed time, ETA, running trials.

On a terminal, finished trials scroll by as lines above one status line that
is redrawn in place (a bar, the counts, and the trials running with their
time so far). Elsewhere (a log file, CI), plain lines only: one when a trial
starts, one when it ends, each with the counts, elapsed time and ETA.

The ETA is the remaining trials at this run's pace so far (finished trials
per second since the first started), so it already accounts for trials
running side by side; skipped trials do not count towards the pace.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

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
        #: measured, predicted_s, and when it came ("at").
        self.schedule: dict[str, Any] | None = None
        self._last_draw = -REDRAW_S
        self._status_shown = False

    def __call__(self, event: str, trial: Trial | None, row: dict[str, Any] | None) -> None:
        now = self.clock()
        if event == "schedule":
            self.schedule = dict(row, at=now)
        elif event == "skip":
            self.done += 1
            self._line(f"[{self.done}/{self.total}] {trial.label()}: already done, skipped")
        elif event == "adopt":
            self.done += 1
            self.failed += row["status"] != Status.OK
            self._line(f"[{self.done}/{self.total}] {trial.label()}: done by another run: "
                       f"{outcome_text(row)}")
        elif event == "start":
            self.first_start = now if self.first_start is None else self.first_start
            self.running[trial.label()] = (self._short(trial), now)
            if not self.live:
                self._line(f"[start] {trial.label()}{self._counts(now)}")
        elif event == "retry":
            self.running.pop(trial.label(), None)
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

    def _eta(self, now: float) -> str:
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
