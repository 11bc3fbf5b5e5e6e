"""How long a plan takes on N slots, from trial times measured before.

The model is the executors' own rule: trials are handed out in plan order,
each to the first slot that frees up (``--jobs`` processes, or a Dask
cluster's worker threads). A trial is expected to take what the same
algorithm, variant, dataset and protocol took in an earlier results folder
(the median over its seeds of ``trial_seconds``: process start, data,
selection, fit and prediction; see ``measured_seconds`` for older rows).
The model assumes a slot runs a trial as fast as the measured one did (same
threads per trial, same kind of machine) and that the orchestrator and the
network cost nothing.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Iterable, Sequence

import pandas as pd

from benchbase.results.record import Status

#: Slot counts an estimate is shown for (and the trial count, where it is more).
SLOTS = (1, 2, 4, 8, 16, 32)


def makespan(durations: Sequence[float], slots: int) -> float:
    """Wall seconds until the last of ``durations`` ends, handed out in order
    to the first free of ``slots``."""
    if slots < 1:
        raise ValueError(f"slots must be >= 1, got {slots}")
    free_at = [0.0] * min(slots, max(1, len(durations)))
    for duration in durations:
        heapq.heappush(free_at, heapq.heappop(free_at) + duration)
    return max(free_at)


def _kind(algorithm: str, variant: str, dataset: str, protocol: str) -> tuple:
    return algorithm, variant or "", dataset, str(protocol)


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
