"""How long a plan takes on N slots, and which trials to start first.

The model is the executors' own rule: trials are handed out in order, each to
the first slot that frees up (``--jobs`` processes, or a Dask cluster's worker
threads). A trial is expected to take what the same algorithm, variant,
dataset and protocol took before (the median over its seeds of
``trial_seconds``: process start, data, selection, fit and prediction; see
``measured_seconds`` for older rows). The model assumes a slot runs a trial as
fast as the measured one did (same threads per trial, same kind of machine)
and that the orchestrator and the network cost nothing.

The order: longest expected first (``longest_first``), the classic LPT rule
(Graham 1969: within 4/3 of the best makespan on any number of slots). A
plan's own order puts a suite's slowest algorithm last, so a run used to end
with one long trial alone on one slot while the others idled.
``best_order`` searches harder (LPT, then moves between slots) to measure how
far from the best the order is; the orchestrator uses ``longest_first``.
Trials nothing was measured for get a size-based estimate
(``size_estimate``), scaled to seconds by the measured trials where there are
any.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from benchbase.results.record import Status

#: Slot counts an estimate is shown for (and the trial count, where it is more).
SLOTS = (1, 2, 4, 8, 16, 32)


def makespan(durations: Sequence[float], slots: int, peaks: Sequence[float] | None = None,
             room: float | None = None,
             busy: Sequence[tuple[float, float]] = ()) -> float:
    """Wall seconds until the last of ``durations`` ends, handed out in order
    to the first free of ``slots``. With ``peaks`` and ``room`` (memory, any
    unit), the orchestrator's memory rule too: a free slot takes the first
    trial in order whose peak fits beside the running ones' within ``room``
    (any trial when none runs), else stays free until one ends. ``busy``:
    (seconds left, peak) of trials already running, each holding a slot."""
    if slots < 1:
        raise ValueError(f"slots must be >= 1, got {slots}")
    if peaks is None or room is None:
        free_at = [left for left, _ in busy] + [0.0] * max(0, slots - len(busy))
        heapq.heapify(free_at)
        for duration in durations:
            heapq.heappush(free_at, heapq.heappop(free_at) + duration)
        return max(free_at, default=0.0)
    pending = list(range(len(durations)))
    # (end, tie-break, peak), a heap; the running trials first
    running = [(left, -1 - n, peak) for n, (left, peak) in enumerate(busy)]
    heapq.heapify(running)
    now = 0.0
    while pending or running:
        while len(running) < slots and pending:
            used = sum(peak for _, _, peak in running)
            fits = (i for i in pending if not running or used + peaks[i] <= room)
            chosen = next(fits, None)
            if chosen is None:
                break
            pending.remove(chosen)
            heapq.heappush(running, (now + durations[chosen], chosen, peaks[chosen]))
        now, _, _ = heapq.heappop(running)
    return now


def _kind(algorithm: str, variant: str, dataset: str, protocol: str) -> tuple:
    return algorithm, variant or "", dataset, str(protocol)


_KIND_LABEL = re.compile(r"^(?P<algorithm>[^\s\[]+)(?:\[(?P<variant>[^\]]*)\])? on "
                         r"(?P<dataset>\S+) \((?P<protocol>[^)]+)\)$")


def kind_label(kind: tuple) -> str:
    """"ALGORITHM[VARIANT] on DATASET (PROTOCOL)": how a suite file names a kind."""
    algorithm, variant, dataset, protocol = kind
    name = f"{algorithm}[{variant}]" if variant else algorithm
    return f"{name} on {dataset} ({protocol})"


def parse_kind_label(label: str) -> tuple | None:
    """The kind ``kind_label`` wrote, or None for other text."""
    match = _KIND_LABEL.match(label.strip())
    if match is None:
        return None
    return _kind(match["algorithm"], match["variant"] or "", match["dataset"],
                 match["protocol"])


def timings_toml(measured: Mapping[tuple, float]) -> str:
    """A suite file's ``[timings]`` table of ``measured`` (seconds, rounded)."""
    return _kind_table("timings", measured, "{:.4g}")


def peak_memory_toml(peaks: Mapping[tuple, float]) -> str:
    """A suite file's ``[peak_memory_mb]`` table of ``peaks`` (MiB, rounded)."""
    return _kind_table("peak_memory_mb", peaks, "{:.0f}")


def _kind_table(name: str, values: Mapping[tuple, float], number: str) -> str:
    lines = [f"[{name}]"]
    lines += [f'"{kind_label(kind)}" = {number.format(value)}'
              for kind, value in sorted(values.items())]
    return "\n".join(lines) + "\n"


#: What a trial's time is made of where ``trial_seconds`` was not recorded yet.
STAGES = ("select_seconds", "fit_seconds", "predict_seconds")


def measured_seconds(rows: pd.DataFrame) -> dict[tuple, float]:
    """Median trial seconds per (algorithm, variant, dataset, protocol) of the
    ok rows; rows from before ``trial_seconds`` existed count the sum of
    selection, fit and prediction (without process start and data loading,
    a slight underestimate)."""
    ok = rows[rows["status"] == Status.OK]
    stages = ok[list(STAGES)].sum(axis=1, min_count=len(STAGES))
    ok = ok.assign(seconds=ok["trial_seconds"].fillna(stages),
                   variant=ok["variant"].fillna(""), protocol=ok["protocol"].astype(str))
    medians = (ok[ok["seconds"].notna()]
               .groupby(["algorithm", "variant", "dataset", "protocol"])["seconds"].median())
    return {tuple(kind): float(seconds) for kind, seconds in medians.items()}


def measured_peak_mb(rows: pd.DataFrame) -> dict[tuple, float]:
    """The largest peak resident memory (MiB) per (algorithm, variant,
    dataset, protocol) of the ok rows: what a trial of that kind held at most
    (its memory planners take a share of what is free, so the peak measured
    alone is the larger one)."""
    if "peak_rss_mb" not in rows:
        return {}
    ok = rows[(rows["status"] == Status.OK) & rows["peak_rss_mb"].notna()]
    ok = ok.assign(variant=ok["variant"].fillna(""), protocol=ok["protocol"].astype(str))
    peaks = ok.groupby(["algorithm", "variant", "dataset", "protocol"])["peak_rss_mb"].max()
    return {tuple(kind): float(peak) for kind, peak in peaks.items()}


@dataclasses.dataclass(frozen=True)
class Estimate:
    trials: int
    unmeasured: tuple[str, ...]  # labels of trials nothing was measured for
    total_s: float  # trial seconds of the measured trials, summed
    longest_s: float
    by_slots: dict[int, float]  # expected wall seconds on that many slots


def estimate(trials: Iterable, measured: dict[tuple, float],
             slots: Sequence[int] = SLOTS) -> Estimate:
    """The expected wall time of ``trials`` (``benchbase.trial.evaluate.Trial``, in
    plan order); trials nothing was measured for are left out and named."""
    trials = list(trials)
    durations, unmeasured = [], []
    for trial in trials:
        seconds = measured.get(_kind(trial.algorithm, trial.variant, trial.dataset,
                                     trial.protocol))
        if seconds is None:
            unmeasured.append(trial.label())
        else:
            durations.append(float(seconds))
    counts = sorted({*slots, len(durations)} - {0})
    return Estimate(len(trials), tuple(unmeasured), sum(durations),
                    max(durations, default=0.0),
                    {n: makespan(durations, n) for n in counts if n <= max(1, len(durations))})


def kind_of(fields: Mapping) -> tuple:
    """The measured-times key of a planned trial's row fields."""
    return _kind(fields["algorithm"], fields["variant"], fields["dataset"],
                 fields["protocol"])


def size_estimate(fields: Mapping) -> float:
    """A trial's cost with nothing measured, in no unit: training rows times
    the candidates it scores (the grid's size). Crude (it knows nothing of
    the algorithm), so measured times win wherever there are any."""
    grid = json.loads(fields["search_space"] or "{}")
    candidates = math.prod(len(values) for values in grid.values()) if grid else 1
    return float(fields["n_train"]) * max(1, candidates)


@dataclasses.dataclass(frozen=True)
class Schedule:
    """The order trials start in and what each is expected to take."""

    #: Trial keys, longest expected first.
    order: tuple[str, ...]
    #: Expected seconds per trial key (a size in no unit where ``measured`` is 0).
    expected: Mapping[str, float]
    #: How many of the trials had a measured time for their kind.
    measured: int
    #: Peak memory (MiB) measured for each trial key's kind (0 where none was).
    peaks: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def predicted_wall(self, slots: int, room_mb: float | None = None) -> float | None:
        """The model's wall seconds on ``slots`` (None with nothing measured),
        with the memory rule where ``room_mb`` is the trials' shared memory."""
        if not self.measured:
            return None
        return makespan([self.expected[key] for key in self.order], slots,
                        [self.peaks.get(key, 0.0) for key in self.order], room_mb)


def expected_seconds(planned: Sequence, measured: Mapping[tuple, float]
                     ) -> tuple[dict[str, float], int]:
    """(expected seconds per trial key, how many were measured) for planned
    trials (``PlannedTrial``): the measured median of the trial's kind, else
    its ``size_estimate`` times the median seconds per unit of size of the
    measured ones (the bare size when none was measured)."""
    known = {item.key: measured[kind_of(item.fields)] for item in planned
             if kind_of(item.fields) in measured}
    rates = sorted(known[item.key] / size_estimate(item.fields) for item in planned
                   if item.key in known)
    rate = rates[len(rates) // 2] if rates else 1.0
    expected = {item.key: known.get(item.key, rate * size_estimate(item.fields))
                for item in planned}
    return expected, len(known)


def longest_first(planned: Sequence, measured: Mapping[tuple, float],
                  peaks: Mapping[tuple, float] | None = None) -> Schedule:
    """The longest-expected-first order of ``planned`` (ties keep plan order);
    ``peaks``: peak memory per kind, as ``measured_peak_mb`` gives them."""
    expected, n_measured = expected_seconds(planned, measured)
    order = sorted((item.key for item in planned), key=lambda key: -expected[key])
    by_key = {item.key: (peaks or {}).get(kind_of(item.fields), 0.0) for item in planned}
    return Schedule(tuple(dict.fromkeys(order)), expected, n_measured, by_key)


def lpt_order(durations: Sequence[float]) -> list[int]:
    """Indices of ``durations``, longest first (stable)."""
    return sorted(range(len(durations)), key=lambda i: -durations[i])


def best_order(durations: Sequence[float], slots: int, rounds: int = 200) -> list[int]:
    """The shortest-makespan order of ``durations`` this search finds: LPT,
    then moves of one trial, or swaps of two, between the busiest slot and
    another while that shortens the makespan. Each slot's trials become a run
    of the order, the longest slots' first."""
    order = lpt_order(durations)
    assignment = _slots_of(order, durations, slots)
    for _ in range(rounds):
        if not _improve(assignment, durations):
            break
    runs = sorted(assignment, key=lambda run: -sum(durations[i] for i in run))
    # Handed out in order to the first free slot, each slot's trials longest
    # first, interleaved so that every slot gets its first trial at once.
    queues = [sorted(run, key=lambda i: -durations[i]) for run in runs]
    candidate = _interleave(queues, durations, slots)
    lpt = lpt_order(durations)
    return min((candidate, lpt), key=lambda o: makespan([durations[i] for i in o], slots))


def _slots_of(order: Sequence[int], durations: Sequence[float], slots: int
              ) -> list[list[int]]:
    free_at = [(0.0, s) for s in range(min(slots, max(1, len(order))))]
    runs: list[list[int]] = [[] for _ in free_at]
    for i in order:
        at, s = heapq.heappop(free_at)
        runs[s].append(i)
        heapq.heappush(free_at, (at + durations[i], s))
    return runs


def _improve(runs: list[list[int]], durations: Sequence[float]) -> bool:
    """One improving move or swap between the busiest slot and another."""
    loads = [sum(durations[i] for i in run) for run in runs]
    busiest = max(range(len(runs)), key=loads.__getitem__)
    top = loads[busiest]
    for other in range(len(runs)):
        if other == busiest:
            continue
        for a in list(runs[busiest]):
            if max(top - durations[a], loads[other] + durations[a]) < top - 1e-9:
                runs[busiest].remove(a)
                runs[other].append(a)
                return True
            for b in list(runs[other]):
                gain = durations[a] - durations[b]
                if gain > 1e-9 and loads[other] + gain < top - 1e-9:
                    runs[busiest].remove(a)
                    runs[other].remove(b)
                    runs[busiest].append(b)
                    runs[other].append(a)
                    return True
    return False


def _interleave(queues: list[list[int]], durations: Sequence[float], slots: int
                ) -> list[int]:
    """The hand-out order that gives slot s its queue s: each next trial is
    the head of the queue whose slot frees first."""
    free_at = [(0.0, s) for s in range(len(queues))]
    order = []
    queues = [list(q) for q in queues]
    while free_at:
        at, s = heapq.heappop(free_at)
        if queues[s]:
            i = queues[s].pop(0)
            order.append(i)
            heapq.heappush(free_at, (at + durations[i], s))
    return order
