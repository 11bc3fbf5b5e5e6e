"""Choosing parameters on the validation split: the whole grid, or successive halving.

The ``grid`` strategy scores every candidate on the whole fit split. For large
training sets that costs many full-size fits, so ``halving`` (the idea of
scikit-learn's ``HalvingGridSearchCV``, Jamieson & Talwalkar 2016) scores
every candidate on a stratified fraction of the fit split, keeps the best
third, scores those on three times as many samples, and so on until the last
rung, which uses the whole fit split. Every rung is scored on the same,
whole validation split; the test data play no part. ``auto`` halves when the
fit split has at least ``HALVING_MIN_SAMPLES`` samples, there are more
candidates than one rung keeps, and the algorithm does not say that its grid
scorer already shares nearly all the work (``AlgorithmSpec.halving``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

STRATEGIES = ("auto", "grid", "halving")
#: Fewer fit samples than this: the full grid costs little (≈ 1 min for KELM's
#: 16 points at 20,000 here), and small rungs would rank candidates poorly.
HALVING_MIN_SAMPLES = 20_000
#: Each rung keeps 1/FACTOR of the candidates and gives them FACTOR× the samples.
FACTOR = 3

#: ``score(indices, candidates)``: validation accuracy of each candidate fitted
#: on the fit split's rows ``indices`` (all rows when None).
Scorer = Callable[[np.ndarray | None, list[dict[str, Any]]], list[float]]


@dataclasses.dataclass(frozen=True)
class Selection:
    """What selection tried and chose.

    ``scores[i]`` is candidate i's validation accuracy at the largest rung it
    reached, fitted on ``samples[i]`` rows; the chosen candidate has the best
    score among those scored on the most rows (the first of ties).
    """

    strategy: str
    candidates: list[dict[str, Any]]
    scores: list[float]
    samples: list[int]
    best_index: int

    @property
    def best(self) -> dict[str, Any]:
        return self.candidates[self.best_index]

    @property
    def best_score(self) -> float:
        return self.scores[self.best_index]


def check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise ValueError(f"selection strategy must be one of {', '.join(STRATEGIES)}, "
                         f"got {strategy!r}")


def resolve_strategy(strategy: str, n_candidates: int, n_samples: int,
                     halving_helps: bool = True) -> str:
    """The strategy that runs: ``auto`` becomes ``halving`` or ``grid``
    (``halving_helps``: the algorithm's ``AlgorithmSpec.halving``)."""
    check_strategy(strategy)
    if strategy != "auto":
        return strategy
    worth_it = (halving_helps and n_samples >= HALVING_MIN_SAMPLES
                and n_candidates > FACTOR)
    return "halving" if worth_it else "grid"


def halving_schedule(n_candidates: int, n_samples: int, factor: int = FACTOR
                     ) -> list[tuple[int, int]]:
    """(candidates, fit samples) per rung; the last rung keeps at most ``factor``
    candidates (or all, if there are that few) and uses every sample."""
    kept = [n_candidates]
    while kept[-1] > factor:
        kept.append(math.ceil(kept[-1] / factor))
    rungs = len(kept)
    return [(k, max(1, n_samples // factor ** (rungs - 1 - r))) for r, k in enumerate(kept)]


def stratified_order(y: np.ndarray, seed: int) -> np.ndarray:
    """A permutation of ``range(len(y))`` whose every prefix is (nearly) stratified.

    Each class's rows are shuffled and spread evenly over [0, 1); sorting by
    that position interleaves the classes in proportion. Rung r's rows are a
    prefix, so a larger rung contains the smaller ones.
    """
    rng = np.random.default_rng([seed, 3])  # a stream of its own (see splits.py)
    position = np.empty(len(y))
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        position[rng.permutation(rows)] = (np.arange(len(rows)) + rng.random()) / len(rows)
    return np.argsort(position, kind="stable")


def select(candidates: list[dict[str, Any]], y_fit: np.ndarray, score: Scorer,
           strategy: str = "auto", seed: int = 0) -> Selection:
    """Score ``candidates`` on the validation split by ``strategy``; see the module."""
    n = len(y_fit)
    ran = resolve_strategy(strategy, len(candidates), n)
    if ran == "grid":
        scores = list(score(None, candidates))
        return Selection(ran, candidates, scores, [n] * len(candidates),
                         int(np.argmax(scores)))
    order = stratified_order(y_fit, seed)
    scores = [math.nan] * len(candidates)
    samples = [0] * len(candidates)
    alive = list(range(len(candidates)))
    for rung, (kept, n_rows) in enumerate(halving_schedule(len(candidates), n)):
        if rung:  # the previous rung's best `kept`, the first of ties first
            alive = sorted(sorted(alive, key=lambda i: -scores[i])[:kept])
        rows = None if n_rows >= n else np.sort(order[:n_rows])
        for index, value in zip(alive, score(rows, [candidates[i] for i in alive]),
                                strict=True):
            scores[index], samples[index] = float(value), n_rows
    best = max(alive, key=lambda i: (scores[i], -i))
    return Selection(ran, candidates, scores, samples, best)


def covering_grids(candidates: Sequence[dict[str, Any]]) -> list[dict[str, list]]:
    """Split candidates into grids (dicts of lists) that contain exactly them.

    Survivors of a halving rung are not a grid; a fast grid scorer needs one.
    Candidates equal in every parameter but one form one grid, so sharing
    across that parameter (e.g. one kernel for every C) still works.
    """
    if not candidates:
        return []
    names = list(candidates[0])
    if not names:
        return [{}]

    def groups_along(free: str) -> dict[tuple, list[dict[str, Any]]]:
        groups: dict[tuple, list[dict[str, Any]]] = {}
        for candidate in candidates:
            key = tuple((name, repr(candidate[name])) for name in names if name != free)
            groups.setdefault(key, []).append(candidate)
        return groups

    free = min(names, key=lambda name: len(groups_along(name)))  # fewest grids
    grids = []
    for group in groups_along(free).values():
        grid = {name: [group[0][name]] for name in names if name != free}
        grid[free] = [candidate[free] for candidate in group]
        grids.append(grid)
    return grids
