"""Selection strategies: the whole grid, or successive halving for large fit splits."""

import numpy as np
import pytest
from sklearn.model_selection import ParameterGrid

from benchbase import selection
from benchbase.selection import (
    Selection,
    covering_grids,
    halving_schedule,
    resolve_strategy,
    stratified_order,
)

GRID = list(ParameterGrid({"C": [1, 10, 100, 1000], "width": [1, 2, 3, 4]}))


def test_halving_schedule_ends_on_every_sample_with_few_candidates():
    assert halving_schedule(16, 48_000) == [(16, 5_333), (6, 16_000), (2, 48_000)]
    assert halving_schedule(4, 48_000) == [(4, 16_000), (2, 48_000)]
    assert halving_schedule(2, 48_000) == [(2, 48_000)]


@pytest.mark.parametrize(("strategy", "n", "expected"), [
    ("auto", 48_000, "halving"), ("auto", 19_999, "grid"), ("grid", 48_000, "grid"),
    ("halving", 500, "halving"),
])
def test_auto_halves_only_large_fit_splits(strategy, n, expected):
    assert resolve_strategy(strategy, 16, n) == expected


def test_auto_keeps_the_grid_when_one_rung_would_keep_everything():
    assert resolve_strategy("auto", 2, 48_000) == "grid"


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="selection strategy must be one of"):
        resolve_strategy("random", 4, 10)


def test_stratified_order_prefixes_keep_class_proportions():
    y = np.repeat([0, 1, 2], [500, 300, 200])
    order = stratified_order(y, seed=4)
    assert sorted(order) == list(range(1000))
    for size in (10, 100, 333):
        counts = np.bincount(y[order[:size]], minlength=3)
        np.testing.assert_allclose(counts / size, [0.5, 0.3, 0.2], atol=1.5 / size + 0.01)
    assert not np.array_equal(order, stratified_order(y, seed=5))


def _quality(candidate):
    return 1 - abs(candidate["C"] - 100) / 1000 - abs(candidate["width"] - 2) / 10


def _scorer(calls):
    """Score = a fixed quality per candidate, plus a bonus shrinking with the rung."""
    def score(rows, candidates):
        calls.append((rows, [dict(c) for c in candidates]))
        n = 1000 if rows is None else len(rows)
        return [_quality(c) + 1 / n for c in candidates]
    return score


def test_halving_keeps_each_rungs_best_on_growing_nested_rows():
    calls = []
    chosen = selection.select(GRID, np.arange(1000) % 5, _scorer(calls), strategy="halving")
    (rows_0, first), (rows_1, second), (rows_2, third) = calls
    assert (len(rows_0), len(rows_1), rows_2) == (111, 333, None)  # None: every row
    assert set(rows_0) <= set(rows_1)
    assert first == GRID
    best_6 = sorted(sorted(range(16), key=lambda i: -_quality(GRID[i]))[:6])
    assert second == [GRID[i] for i in best_6]
    assert len(third) == 2 and third[0] in second
    assert chosen.strategy == "halving" and chosen.best == {"C": 100, "width": 2}
    assert chosen.samples[chosen.best_index] == 1000
    assert chosen.best_score == pytest.approx(_quality(chosen.best) + 1 / 1000)
    assert sorted(set(chosen.samples)) == [111, 333, 1000]


def test_grid_strategy_scores_everything_once_on_all_rows():
    calls = []
    chosen = selection.select(GRID, np.arange(1000) % 5, _scorer(calls), strategy="grid")
    assert calls == [(None, GRID)]
    assert isinstance(chosen, Selection) and chosen.samples == [1000] * 16


def test_covering_grids_contain_exactly_the_candidates():
    survivors = [GRID[i] for i in (1, 5, 9, 4, 14)]
    grids = covering_grids(survivors)
    covered = [c for grid in grids for c in ParameterGrid(grid)]
    assert sorted(map(repr, covered)) == sorted(map(repr, survivors))
    assert len(grids) <= 3
    assert covering_grids([{}]) == [{}]
