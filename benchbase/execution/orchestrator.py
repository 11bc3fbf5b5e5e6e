"""Running a plan: skip the finished trials, execute the rest, save each result.

Executing is an executor's (``benchbase.execution.executor``): the orchestrator
hands it one claimed trial at a time, as long as it has room, and saves each
result and reports progress in the order the trials finish. It is the only
writer of the store, and builds every row with
``benchbase.results.record.make_row``.

Trials start longest expected first (``benchbase.plan.schedule``), from the
times measured before (``RunOptions.timings`` and the folder's own rows); the
progress callback hears the schedule model's prediction as a "schedule" event.
Where the executor names the memory its trials share (``Executor.memory_mb``:
one host's), a trial starts beside running ones only if the peaks measured
for their kinds fit it together (``_MemoryRoom``); else the next that fits
starts, and it waits for memory to free ("hold"). Trials that ran out of
memory beside others used to cost their time and a rerun alone.
A trial is claimed in the store before it is submitted
(``benchbase.results.claims``), so a second run into the same folder skips
what the first is running and takes over what the first leaves; a row another
run saved meanwhile is adopted, not recomputed. Whatever happens (the end, an
error, Ctrl-C, SIGTERM turned into an exception by the command line), running
trials are stopped, claims released and ``results.csv`` consolidated from the
log.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import inspect
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from benchbase.execution.executor import (
    Executor,
    ExecutorLost,
    Finished,
    Started,
    Workload,
)
from benchbase.execution.isolation import LIMIT_KILL
from benchbase.execution.limits import ExecutorOptionError, Limits
from benchbase.plan.planner import Plan, PlannedTrial, plan
from benchbase.plan.schedule import kind_of, longest_first, measured_peak_mb, measured_seconds
from benchbase.plugins import Catalog
from benchbase.results import provenance
from benchbase.results.record import Outcome, Status, make_row
from benchbase.results.store import ResultStore
from benchbase.specs import DataContext, ExecutorSpec
from benchbase.trial.selection import check_strategy
from benchbase.trial.task import Trial

#: Seconds between checks when every trial left is claimed by another run.
CLAIM_POLL_S = 1.0
#: Longest wait for an executor's events: the progress display's refresh period.
POLL_S = 1.0

#: ``progress(event, trial, row)``: "skip" (finished before this run: ``row``),
#: "adopt" (saved by another run into the same folder meanwhile: ``row``),
#: "start", "done" (``row``), "retry" (ran out of memory beside other trials:
#: the unsaved ``row``; it runs again alone once the rest are done), "hold"
#: (its measured peak memory does not fit beside the running trials' now:
#: ``{"peak_mb", "beside_mb", "room_mb"}``; once per trial), "schedule" (no
#: trial, once before the first start: ``{"slots", "trials", "measured",
#: "predicted_s", "room_mb", "expected"}``, the last the trials to run in start
#: order as (label, expected seconds, peak MiB)), and "wait" (no trial, about
#: once a second while trials run: time to redraw).
ProgressFn = Callable[[str, Trial | None, dict | None], None]


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How to run: see ``benchbase run --help`` for the command-line names."""

    limits: Limits = dataclasses.field(default_factory=Limits)
    executor: str = "process"
    #: Keyword arguments of the executor's factory (``jobs``, ``scheduler``, ...).
    executor_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    data_context: DataContext = dataclasses.field(default_factory=DataContext)
    #: "auto", "grid" or "halving": see ``benchbase.trial.selection``.
    selection: str = "auto"
    #: Trial seconds measured before, per kind (``benchbase.plan.schedule.
    #: measured_seconds``): which trials start first. The results folder's own
    #: earlier rows are added to them.
    timings: Mapping[tuple, float] = dataclasses.field(default_factory=dict)
    #: The suite's name and report settings, recorded in runs.jsonl for the
    #: report (``Suite.report_settings``).
    suite: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: Peak memory (MiB) measured before, per kind (``benchbase.plan.schedule.
    #: measured_peak_mb``): which trials may run at once. The results folder's
    #: own earlier rows are added to them (the larger peak counts).
    peak_memory_mb: Mapping[tuple, float] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        check_strategy(self.selection)


def make_executor(spec: ExecutorSpec, options: Mapping[str, Any]) -> Executor:
    """``spec.factory(**options)``, refusing options it does not take by name."""
    signature = inspect.signature(spec.factory)
    try:
        signature.bind(**options)
    except TypeError:
        accepted = [name for name, parameter in signature.parameters.items()
                    if parameter.kind is parameter.KEYWORD_ONLY
                    or parameter.kind is parameter.POSITIONAL_OR_KEYWORD]
        wrong = sorted(set(options) - set(accepted)) or sorted(options)
        raise ExecutorOptionError(
            f"executor {spec.name!r} takes no option {', '.join(map(repr, wrong))}; "
            f"its options: {', '.join(accepted) or 'none'}") from None
    return spec.factory(**options)


def run_trials(catalog: Catalog, trials: list[Trial], store: ResultStore,
               options: RunOptions | None = None,
               progress: ProgressFn | None = None) -> list[dict[str, Any]]:
    """Plan ``trials`` and run the plan (``run_plan``): the whole way from a
    list of trials to their rows, for programs that need no dry run."""
    options = options or RunOptions()
    executor = make_executor(catalog.executor(options.executor), options.executor_options)
    the_plan = plan(catalog, trials, options.data_context, options.selection)
    return run_plan(the_plan, store, executor, options, progress)


def run_plan(the_plan: Plan, store: ResultStore, executor: Executor,
             options: RunOptions, progress: ProgressFn | None = None
             ) -> list[dict[str, Any]]:
    """Run (or skip, if already finished) each planned trial with ``executor``;
    return their rows in plan order.

    Raises ``ExecutorOptionError`` for executor settings that cannot work and
    ``PermissionError`` for a folder it cannot write, before any trial runs;
    ``ExecutorLost`` when the executor loses what runs the trials.
    """
    store.check_writable()
    progress = progress or (lambda *_: None)
    run = _Run(store, options.executor, progress)
    rows = store.frame()  # the folder's own earlier trials: their times and peaks
    peaks = measured_peak_mb(rows)
    for kind, peak in options.peak_memory_mb.items():
        peaks[kind] = max(peak, peaks.get(kind, 0.0))
    pending = run.skip_finished(the_plan.trials)
    schedule = longest_first(pending, {**measured_seconds(rows), **options.timings}, peaks)
    by_key = {item.key: item for item in pending}
    pending = collections.deque(by_key[key] for key in schedule.order)
    run_id = uuid.uuid4().hex[:12]
    workload = Workload(the_plan.datasets, the_plan.modules, options.limits)
    try:
        with executor:
            if pending:
                executor.open(workload)  # refuses what it cannot do before the run counts
                slots = executor.capacity()
                memory = _MemoryRoom(executor.memory_mb(), peaks, progress)
                progress("schedule", None, {
                    "slots": slots, "trials": len(pending), "measured": schedule.measured,
                    "predicted_s": schedule.predicted_wall(slots, memory.room_mb),
                    "room_mb": memory.room_mb,
                    # in start order: (label, expected seconds or size, peak MiB)
                    "expected": [(item.trial.label(), schedule.expected[item.key],
                                  schedule.peaks.get(item.key, 0.0)) for item in pending]})
            store.start_run(provenance.run_record(run_id, utc_now(),
                                                  suite=options.suite))
            if pending:
                run.execute(executor, pending, run_id, memory)
    finally:
        store.claims.release_all()
        store.consolidate()
    return [run.rows[item.key] for item in the_plan.trials if item.key in run.rows]


def _out_of_memory_beside_others(outcome: Outcome, concurrency: int) -> bool:
    """A ``MemoryError`` raised while other trials ran (not ``--memory-limit``'s
    kill, which is about the trial's own size)."""
    return (outcome.status is Status.MEMORY and concurrency > 1
            and not outcome.error.startswith(LIMIT_KILL))


class _Overlap:
    """The most trials running at once on a host while each trial ran."""

    def __init__(self) -> None:
        self._running: dict[str, set[str]] = collections.defaultdict(set)
        self._host: dict[str, str] = {}
        self._peak: dict[str, int] = {}

    def start(self, key: str, host: str) -> None:
        if key in self._host:  # started again (a Dask retry): count it where it is now
            self._running[self._host[key]].discard(key)
        self._host[key] = host
        on_host = self._running[host]
        on_host.add(key)
        for other in on_host:
            self._peak[other] = max(self._peak.get(other, 0), len(on_host))

    def finish(self, key: str, host: str) -> int:
        if key not in self._host:  # its start went unnoticed
            self.start(key, host)
        self._running[self._host.pop(key)].discard(key)
        return self._peak.pop(key)


#: Share of the host's memory that trials running at once may hold by their
#: measured peaks; the rest is the system's and the orchestrator's.
MEMORY_ROOM = 0.9


class _MemoryRoom:
    """Whether a trial may start beside the running ones: its kind's measured
    peak plus theirs within ``MEMORY_ROOM`` of the host's memory. A kind never
    measured counts nothing; with nothing running any trial may start."""

    def __init__(self, host_mb: float | None, peaks: Mapping[tuple, float],
                 progress: ProgressFn) -> None:
        self.room_mb = None if host_mb is None else MEMORY_ROOM * host_mb
        self.peaks = peaks
        self.progress = progress
        self._held: set[str] = set()

    def peak_mb(self, item: PlannedTrial) -> float:
        return self.peaks.get(kind_of(item.fields), 0.0)

    def fits(self, item: PlannedTrial, running: Mapping[str, _Running]) -> bool:
        if self.room_mb is None or not running:
            return True
        beside = sum(self.peak_mb(entry.item) for entry in running.values())
        if self.peak_mb(item) + beside <= self.room_mb:
            return True
        # Say so once per trial, and only once the trials it waits for have
        # started, so the progress lines read in order.
        if item.key not in self._held and all(entry.seen for entry in running.values()):
            self._held.add(item.key)
            self.progress("hold", item.trial, {"peak_mb": self.peak_mb(item),
                                               "beside_mb": beside, "room_mb": self.room_mb})
        return False


@dataclasses.dataclass
class _Running:
    """A submitted trial: when it started (the orchestrator's clocks)."""

    item: PlannedTrial
    started_at: str
    started: float  # monotonic
    seen: bool = False  # its executor has said it started


class _Run:
    """One run's bookkeeping: claims, rows, overlap and progress."""

    def __init__(self, store: ResultStore, executor_name: str, progress: ProgressFn) -> None:
        self.store = store
        self.executor_name = executor_name
        self.progress = progress
        self.rows: dict[str, dict[str, Any]] = {}
        self._others: dict[str, dict[str, Any]] = {}  # rows other runs saved meanwhile

    def skip_finished(self, planned: list[PlannedTrial]) -> collections.deque[PlannedTrial]:
        finished = self.store.finished()
        pending: collections.deque[PlannedTrial] = collections.deque()
        seen = set()
        for item in planned:
            row = finished.get(item.key)
            if row is not None:
                self.rows[item.key] = row
                self.progress("skip", item.trial, row)
            elif item.key not in seen:
                pending.append(item)
            seen.add(item.key)
        return pending

    def _adopted(self, item: PlannedTrial) -> bool:
        """Whether another run saved this trial since we planned (then use its row)."""
        for row in self.store.new_rows():
            self._others[row["trial_key"]] = row
        row = self._others.get(item.key)
        if row is None:
            return False
        self.rows[item.key] = row
        self.progress("adopt", item.trial, row)
        return True

    def _next(self, pending: collections.deque[PlannedTrial], deferred: list[PlannedTrial],
              fits: Callable[[PlannedTrial], bool]) -> PlannedTrial | None:
        """The next trial this run may run, claimed, the first in order that
        ``fits``; None if none is free now."""
        claims = self.store.claims
        for item in list(pending):
            if not fits(item):
                continue  # keeps its place for when memory frees
            pending.remove(item)
            if claims.claim(item.key):
                if not self._adopted(item):
                    return item
                claims.release(item.key)
            else:
                deferred.append(item)  # another run is on it; look again later
        for item in list(deferred):
            if fits(item) and claims.claim(item.key):
                deferred.remove(item)
                if not self._adopted(item):
                    return item
                claims.release(item.key)
        return None

    def execute(self, executor: Executor, pending: collections.deque[PlannedTrial],
                run_id: str, memory: _MemoryRoom) -> None:
        deferred: list[PlannedTrial] = []
        running: dict[str, _Running] = {}
        overlap = _Overlap()
        # Out of memory beside other trials: run once more, alone, at the end
        # (still claimed). Memory is planned from what is free when a trial
        # starts, and the others held it.
        alone: list[PlannedTrial] = []
        retried: set[str] = set()
        while pending or deferred or running or alone:
            while len(running) < executor.capacity():
                item = self._next(pending, deferred,
                                  lambda item: memory.fits(item, running))
                if item is None:
                    break
                running[item.key] = _Running(item, utc_now(), time.monotonic())
                executor.submit(item.task)
            if not running and alone and not pending and not deferred:
                item = alone.pop(0)
                running[item.key] = _Running(item, utc_now(), time.monotonic())
                executor.submit(item.task)
            if not running:
                time.sleep(CLAIM_POLL_S)  # only trials another run holds are left
                self.progress("wait", None, None)
                continue
            try:
                events = list(executor.poll(POLL_S))
            except ExecutorLost as exc:
                for key, entry in running.items():  # cut off, not failed: a rerun completes them
                    lost = Outcome(Status.LOST, error=f"{exc}; run the same command again "
                                   "to complete it")
                    self._save(entry, Finished(key, lost, "", None), overlap.finish(key, ""),
                               run_id)
                raise ExecutorLost(f"{exc}; {len(running)} running trial(s) recorded as "
                                   "lost: run the same command again to complete them"
                                   ) from None
            for event in events:
                entry = running.get(event.key)
                if entry is None:  # a late notice of a trial already saved
                    continue
                if isinstance(event, Started):
                    overlap.start(event.key, event.host)
                    entry.started_at, entry.started = utc_now(), time.monotonic()
                    entry.seen = True
                    self.progress("start", entry.item.trial, None)
                elif isinstance(event, Finished):
                    concurrency = overlap.finish(event.key, event.host)
                    del running[event.key]
                    if _out_of_memory_beside_others(event.outcome, concurrency) and (
                            event.key not in retried):
                        retried.add(event.key)
                        alone.append(entry.item)
                        self.progress("retry", entry.item.trial, {
                            "status": event.outcome.status.value,
                            "error": event.outcome.error, "concurrency": concurrency})
                        continue
                    self._save(entry, event, concurrency, run_id)
            self.progress("wait", None, None)

    def _save(self, entry: _Running, event: Finished, concurrency: int, run_id: str) -> None:
        item = entry.item
        measured = {"host": event.host, "threads": event.threads,
                    "concurrency": concurrency, "executor": self.executor_name,
                    "started_at": entry.started_at, "run_id": run_id,
                    "trial_seconds": round(time.monotonic() - entry.started, 3)}
        row, arrays = make_row(item.fields, event.outcome, measured)
        self.store.append(row, arrays, event.outcome.output)
        self.store.claims.release(item.key)
        self.rows[item.key] = row
        self.progress("done", item.trial, row)
