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

Halving by fits: where candidates that differ only in some parameters share
one fit (``AlgorithmSpec.shared_fit_params``: the autoencoders train once for
every setting of their KELM head), a rung's cost is mostly its number of fits.
Halving then ranks fits (each by its best candidate), keeps the best ones and
ends with one fit on the whole fit split (ranking candidates instead let the
last rung keep two candidates of two different fits: two full-size trainings).
The shared settings are not free at full size either (a Nyström KELM head
costs about as much as a training), so a kept fit takes only the best third
(at least one) of its candidates up, halved like any others.

Keeping ties: a rung that would keep a single unit (halving by fits' last
decision) also keeps every unit the leader is not shown to beat by the exact
McNemar test on the validation predictions (α = ``KEEP_ALPHA``), where the
scorer gives predictions, as many as halving can keep without fitting on
more rows in all than the full grid would (the strategy exists to spend
less): of three trainings, the leader and the best-ranked tie; of two, the
leader alone. A single decision on a third of the data once kept a training
0.46 validation points behind the other on all of it (reports/full). Rungs
that keep several units already carry near ties forward, and testing there
too doubled KELM's selection time at full scale for the same choice
(measurements: reports/full/README.md).

Each rule has a name, a version and its settings (``SelectionRule``); a
trial's key names them (``benchbase.trial.task.trial_key``), so a changed
rule measures its trials anew. Versions live in ``RULE_VERSIONS``: bump one
when a rule chooses differently; a change of ``FACTOR`` or ``KEEP_ALPHA``
changes the keys by itself.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from benchbase.paired import mcnemar

STRATEGIES = ("auto", "grid", "halving")
#: Fewer fit samples than this: the full grid costs little, and small rungs
#: would rank candidates poorly.
HALVING_MIN_SAMPLES = 20_000
#: Each rung keeps 1/FACTOR of the candidates and gives them FACTOR× the samples.
FACTOR = 3
#: Where a rung keeps one unit, another stays unless the leader's advantage on
#: the validation predictions has an exact McNemar p below this (two-sided, as
#: in the reports; no adjustment for the several units: erring towards keeping).
KEEP_ALPHA = 0.05

#: The version of each rule: bump it when the rule's choices change.
#: ``halving-by-fits``: 1 ranked trainings and decided once on the last rung;
#: 2 kept the leader's statistical ties there; 3 took each kept training's
#: best third of its head settings up; 4 keeps ties only within the grid's rows.
RULE_VERSIONS = {"grid": 1, "halving": 1, "halving-by-fits": 4}


@dataclasses.dataclass(frozen=True)
class SelectionRule:
    """How a trial chooses its parameters: a rule's name, version and settings.

    ``strategy`` is what a row's ``selection`` column says ("grid" or
    "halving"); ``identity()`` is what the trial's key and the row's
    ``selection_rule`` record.
    """

    name: str
    version: int
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: The parameters candidates may differ in and share one fit (halving by fits).
    shared_fit_params: tuple[str, ...] = ()

    @property
    def strategy(self) -> str:
        return "grid" if self.name == "grid" else "halving"

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, **self.settings}


def make_rule(strategy: str, shared_fit_params: Sequence[str] = ()) -> SelectionRule:
    """The rule of a resolved strategy ("grid" or "halving") for an algorithm whose
    candidates share fits across ``shared_fit_params``."""
    if strategy == "grid":
        return SelectionRule("grid", RULE_VERSIONS["grid"])
    if strategy != "halving":
        raise ValueError(f"a selection rule is grid or halving, got {strategy!r}")
    if not shared_fit_params:
        return SelectionRule("halving", RULE_VERSIONS["halving"], {"factor": FACTOR})
    shared = tuple(sorted(shared_fit_params))
    return SelectionRule("halving-by-fits", RULE_VERSIONS["halving-by-fits"],
                         {"factor": FACTOR, "keep_alpha": KEEP_ALPHA,
                          "shared_fit_params": list(shared)}, shared)


@dataclasses.dataclass(frozen=True)
class Score:
    """One candidate's validation result: its accuracy and, where the scorer
    gave predictions, which validation examples it got right (keeping ties
    needs them; with an accuracy alone a rung keeps its best units only)."""

    accuracy: float
    correct: np.ndarray | None = None


#: ``score(indices, candidates)``: the validation ``Score`` of each candidate
#: fitted on the fit split's rows ``indices`` (all rows when None).
Scorer = Callable[[np.ndarray | None, list[dict[str, Any]]], list[Score]]


@dataclasses.dataclass(frozen=True)
class Selection:
    """What selection tried and chose.

    ``history`` lists every scoring, rung by rung: (candidate index, fit
    rows, validation accuracy). ``scores[i]`` is candidate i's validation
    accuracy at the largest rung it reached, fitted on ``samples[i]`` rows;
    the chosen candidate has the best score among those scored on the most
    rows (the first of ties).
    """

    strategy: str
    candidates: list[dict[str, Any]]
    history: list[tuple[int, int, float]]
    best_index: int

    @property
    def scores(self) -> list[float]:
        return [score for _, score in self._last()]

    @property
    def samples(self) -> list[int]:
        return [rows for rows, _ in self._last()]

    def _last(self) -> list[tuple[int, float]]:
        """(fit rows, score) of each candidate's last scoring, in candidate order."""
        last = {index: (rows, score) for index, rows, score in self.history}
        return [last[index] for index in range(len(self.candidates))]

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


def fit_groups(candidates: Sequence[dict[str, Any]], shared: Sequence[str] = ()
               ) -> list[int]:
    """The fit each candidate needs, numbered in order of first appearance:
    candidates equal in every parameter outside ``shared`` share one."""
    numbers: dict[str, int] = {}
    return [numbers.setdefault(repr(sorted((k, repr(v)) for k, v in candidate.items()
                                           if k not in shared)), len(numbers))
            for candidate in candidates]


def fits_needed(candidates: Sequence[dict[str, Any]], shared: Sequence[str]) -> int | None:
    """How many fits ``candidates`` need when ``shared`` parameters share one;
    None where the algorithm shares nothing."""
    return len(set(fit_groups(candidates, shared))) if shared else None


def choose_rule(strategy: str, candidates: Sequence[dict[str, Any]], n_samples: int,
                halving_helps: bool = True, shared_fit_params: Sequence[str] = ()
                ) -> SelectionRule:
    """The rule that runs: ``auto`` becomes halving or the grid (``halving_helps``:
    the algorithm's ``AlgorithmSpec.halving``; ``n_samples``: the fit split's rows)."""
    check_strategy(strategy)
    if strategy == "auto":
        n_fits = fits_needed(candidates, shared_fit_params)
        more_than_one_rung = len(candidates) > FACTOR if n_fits is None else n_fits > 1
        worth_it = halving_helps and n_samples >= HALVING_MIN_SAMPLES and more_than_one_rung
        strategy = "halving" if worth_it else "grid"
    return make_rule(strategy, shared_fit_params)


def halving_schedule(n_units: int, n_samples: int, factor: int = FACTOR,
                     last: int = FACTOR) -> list[tuple[int, int]]:
    """(units kept, fit samples) per rung, a unit being a candidate or a fit;
    the last rung keeps at most ``last`` units (all, if there are that few)
    and uses every sample."""
    kept = [n_units]
    while kept[-1] > last:
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
           rule: SelectionRule, seed: int = 0) -> Selection:
    """Score ``candidates`` on the validation split by ``rule`` (see the module)."""
    n = len(y_fit)
    shared = rule.shared_fit_params
    # A unit is what a rung keeps or drops: a fit where fits are shared, else a
    # candidate (without ``shared`` every candidate is a fit of its own).
    unit_of = fit_groups(candidates, shared)
    n_units = len(set(unit_of))
    if rule.strategy == "grid":
        scores = [result.accuracy for result in score(None, candidates)]
        return Selection(rule.strategy, candidates,
                         [(i, n, s) for i, s in enumerate(scores)], int(np.argmax(scores)))
    order = stratified_order(y_fit, seed)
    results: list[Score | None] = [None] * len(candidates)
    history = []
    units = list(range(n_units))
    alive = list(range(len(candidates)))
    schedule = halving_schedule(n_units, n, last=1 if shared else FACTOR)
    rows_fitted = 0  # by every unit so far; the grid fits n_units × n
    for rung, (kept, n_rows) in enumerate(schedule):
        if rung:
            most = max(kept, (n_units * n - rows_fitted) // n_rows)
            units = survivors(units, unit_of, results, kept, alive, most)
            alive = best_of_each_fit(alive, unit_of, results, units)
        rows_fitted += len(units) * n_rows
        rows = None if n_rows >= n else np.sort(order[:n_rows])
        for index, result in zip(alive, score(rows, [candidates[i] for i in alive]),
                                 strict=True):
            results[index] = result
            history.append((index, n_rows, float(result.accuracy)))
    best = max(alive, key=lambda i: (results[i].accuracy, -i))
    return Selection(rule.strategy, candidates, history, best)


def survivors(units: list[int], unit_of: Sequence[int], results: Sequence[Score | None],
              kept: int, alive: Sequence[int], most: int | None = None) -> list[int]:
    """The units going on to the next rung: the best ``kept`` (each unit ranked
    by its best ``alive`` candidate, the one just scored; the first of ties
    first) and, where that is one, every other unit the leader is not shown
    to beat on the validation predictions, the best-ranked first, up to
    ``most`` units in all (None: no limit)."""
    of_unit = candidates_by_unit(alive, unit_of, results)
    best = {u: of_unit[u][0] for u in units}
    ranked = sorted(units, key=lambda u: -results[best[u]].accuracy)  # stable: ties by u
    leader = results[best[ranked[0]]]
    level = ([u for u in ranked[1:] if not shown_worse(results[best[u]], leader)]
             if kept == 1 else [])
    if most is not None:
        level = level[:max(0, most - kept)]
    return sorted(ranked[:kept] + level)


def best_of_each_fit(alive: Sequence[int], unit_of: Sequence[int],
                     results: Sequence[Score | None], units: Sequence[int]) -> list[int]:
    """The candidates going on with the kept ``units``: each unit's best third
    of its ``alive`` candidates, at least one (the first of ties first). A unit
    that is one candidate keeps it, so plain halving is unchanged."""
    of_unit = candidates_by_unit(alive, unit_of, results)
    return sorted(i for u in units for i in of_unit[u][:math.ceil(len(of_unit[u]) / FACTOR)])


def candidates_by_unit(alive: Sequence[int], unit_of: Sequence[int],
                       results: Sequence[Score | None]) -> dict[int, list[int]]:
    """Each unit's ``alive`` candidates, best first (the first of ties first)."""
    of_unit: dict[int, list[int]] = {}
    for i in sorted(alive, key=lambda i: (-results[i].accuracy, i)):
        of_unit.setdefault(unit_of[i], []).append(i)
    return of_unit


def shown_worse(result: Score, leader: Score) -> bool:
    """Whether the leader's lead over ``result`` is significant (McNemar at
    ``KEEP_ALPHA``); always, when either lacks predictions (the plain rule)."""
    if result.correct is None or leader.correct is None:
        return True
    return mcnemar(leader.correct, result.correct)[2] < KEEP_ALPHA


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
