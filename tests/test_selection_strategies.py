"""Selection strategies: the whole grid, or successive halving for large fit splits."""

import numpy as np
import pytest
from doubles import _toy, run_rows, toy_trials
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import ParameterGrid

import benchbase
from benchbase.execution.orchestrator import RunOptions
from benchbase.plugins import PluginInfo, load_catalog
from benchbase.report import build_report, read_results
from benchbase.results import artifacts
from benchbase.trial import selection
from benchbase.trial.selection import (
    Score,
    Selection,
    choose_rule,
    covering_grids,
    fit_groups,
    halving_schedule,
    make_rule,
    stratified_order,
)
from benchbase.trial.task import trial_key

HALVING = make_rule("halving")
BY_FITS = make_rule("halving", ("width",))  # the autoencoders' kind: a head width shares a fit

GRID = list(ParameterGrid({"C": [1, 10, 100, 1000], "width": [1, 2, 3, 4]}))


def _ran(strategy, n_candidates, n_samples, halving_helps=True, n_fits=None):
    """The strategy ``choose_rule`` picks for ``n_candidates`` candidates, which
    share ``n_fits`` fits across ``width`` when given."""
    if n_fits is None:
        candidates, shared = [{"C": i} for i in range(n_candidates)], ()
    else:
        candidates = [{"noise": i % n_fits, "width": i} for i in range(n_candidates)]
        shared = ("width",)
    return choose_rule(strategy, candidates, n_samples, halving_helps, shared).strategy


def test_halving_schedule_ends_on_every_sample_with_few_candidates():
    assert halving_schedule(16, 48_000) == [(16, 5_333), (6, 16_000), (2, 48_000)]
    assert halving_schedule(4, 48_000) == [(4, 16_000), (2, 48_000)]
    assert halving_schedule(9, 900) == [(9, 300), (3, 900)]
    assert halving_schedule(3, 48_000) == [(3, 48_000)]


@pytest.mark.parametrize(("strategy", "n", "expected"), [
    ("auto", 48_000, "halving"), ("auto", 19_999, "grid"), ("grid", 48_000, "grid"),
    ("halving", 500, "halving"),
])
def test_auto_halves_only_large_fit_splits(strategy, n, expected):
    assert _ran(strategy, 16, n) == expected


def test_auto_keeps_the_grid_when_one_rung_would_keep_everything():
    assert _ran("auto", 3, 48_000) == "grid"


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="selection strategy must be one of"):
        choose_rule("random", [{}], 10)


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
        return [Score(_quality(c) + 1 / n) for c in candidates]  # no predictions
    return score


def test_halving_keeps_each_rungs_best_on_growing_nested_rows():
    calls = []
    chosen = selection.select(GRID, np.arange(1000) % 5, _scorer(calls), HALVING)
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


#: Three trainings (noise), each scoring two head widths on one fit.
SHARED_GRID = list(ParameterGrid({"noise": [0.1, 0.2, 0.3], "width": [1, 2]}))
SHARED_QUALITY = {(0.1, 1): 0.70, (0.1, 2): 0.72, (0.2, 1): 0.80, (0.2, 2): 0.90,
                  (0.3, 1): 0.60, (0.3, 2): 0.88}


def _shared_scorer(calls):
    def score(rows, candidates):
        calls.append((rows, [dict(c) for c in candidates]))
        return [Score(SHARED_QUALITY[c["noise"], c["width"]]) for c in candidates]
    return score


def test_fit_groups_number_the_fits_candidates_share():
    assert fit_groups(SHARED_GRID, ("width",)) == [0, 0, 1, 1, 2, 2]
    assert fit_groups(SHARED_GRID, ("noise", "width")) == [0] * 6
    assert fit_groups(SHARED_GRID, ("unknown",)) == list(range(6))


def test_halving_by_fits_ends_with_one_fit_and_its_best_head():
    calls = []
    chosen = selection.select(SHARED_GRID, np.arange(1000) % 5, _shared_scorer(calls),
                              BY_FITS)
    (rows_0, first), (rows_1, last) = calls
    assert len(rows_0) == 333 and first == SHARED_GRID
    # One training on every row: not the two best candidates, which need two
    # trainings (noise 0.2 and 0.3, width 2); and of its two head widths only
    # the better one on 333 rows (a head costs like a training at full size).
    assert rows_1 is None and last == [{"noise": 0.2, "width": 2}]
    assert chosen.best == {"noise": 0.2, "width": 2}
    assert chosen.samples == [333, 333, 333, 1000, 333, 333]
    by_candidate = []
    selection.select(SHARED_GRID, np.arange(1000) % 5, _shared_scorer(by_candidate),
                     HALVING)
    assert {c["noise"] for c in by_candidate[-1][1]} == {0.2, 0.3}  # two fits


def _right_on(n_right, n=1000):
    """A Score right on the first ``n_right`` of ``n`` validation examples: two
    such Scores differ on exactly the examples between their counts."""
    correct = np.arange(n) < n_right
    return Score(float(correct.mean()), correct)


def test_rungs_that_keep_several_candidates_keep_only_their_best():
    # Ten candidates within 4 validation examples of each other, six far
    # behind: rungs that keep 6, then 2, keep just those (ties are not tested).
    right = {i: 900 - i % 5 if i < 10 else 700 for i in range(16)}
    calls = []

    def score(rows, candidates):
        calls.append([GRID.index(c) for c in candidates])
        return [_right_on(right[GRID.index(c)]) for c in candidates]

    chosen = selection.select(GRID, np.arange(1000) % 5, score, HALVING)
    assert calls == [list(range(16)), [0, 1, 2, 5, 6, 7], [0, 5]]
    assert chosen.best_index == 0
    assert [entry[:2] for entry in chosen.history] == (
        [(i, 111) for i in range(16)] + [(i, 333) for i in (0, 1, 2, 5, 6, 7)]
        + [(i, 1000) for i in (0, 5)])


def test_a_unit_the_leader_beats_significantly_is_dropped():
    # Three units of one candidate each: the leader, one 5 examples behind
    # (exact McNemar p = 0.0625: kept), one 6 behind (p = 0.031: dropped).
    results = [_right_on(900), _right_on(895), _right_on(894)]
    assert selection.survivors([0, 1, 2], [0, 1, 2], results, 1, [0, 1, 2]) == [0, 1]
    # Accuracies alone cannot be tested: the plain rule keeps `kept`.
    plain = [Score(r.accuracy) for r in results]
    assert selection.survivors([0, 1, 2], [0, 1, 2], plain, 1, [0, 1, 2]) == [0]


def test_halving_by_fits_keeps_a_training_tied_with_the_best():
    # Noise 0.3's best head is 3 examples behind noise 0.2's: both trainings
    # go on to every row; noise 0.1 (100 behind) stops at the first rung.
    right = {0.1: 800, 0.2: 900, 0.3: 897}
    calls = []

    def score(rows, candidates):
        calls.append(sorted({c["noise"] for c in candidates}))
        return [_right_on(right[c["noise"]] - c["width"]) for c in candidates]

    chosen = selection.select(SHARED_GRID, np.arange(1000) % 5, score, BY_FITS)
    assert calls == [[0.1, 0.2, 0.3], [0.2, 0.3]]
    assert chosen.best == {"noise": 0.2, "width": 1}


@pytest.mark.parametrize(("noises", "last_rung"), [((0.1, 0.2, 0.3), [0.2, 0.3]),
                                                   ((0.2, 0.3), [0.2])])
def test_ties_are_kept_only_while_halving_fits_fewer_rows_than_the_grid(noises, last_rung):
    # Every training within 3 validation examples of the best (no McNemar test
    # can separate them). Three trainings: 3 × 333 rows, then at most two on
    # all 1,000 (the grid fits 3 × 1,000). Two: 2 × 333, then the leader alone.
    right = {0.1: 897, 0.2: 900, 0.3: 899}
    grid = [c for c in SHARED_GRID if c["noise"] in noises]
    calls = []

    def score(rows, candidates):
        calls.append(sorted({c["noise"] for c in candidates}))
        return [_right_on(right[c["noise"]] - c["width"]) for c in candidates]

    selection.select(grid, np.arange(1000) % 5, score, BY_FITS)
    assert calls == [sorted(noises), last_rung]


def test_fits_are_ranked_by_the_heads_they_took_up_not_by_dropped_ones():
    # Nine trainings × two widths: rungs keep 3 trainings, then 1. Training 0
    # led the first rung (width 2: 0.95; width 1: 0.90) and took only width 2
    # up, which scores 0.50 on the second rung; training 1 scores 0.60 there.
    # A rung that ranked training 0 by width 1's stale 0.90 would keep it.
    grid = list(ParameterGrid({"noise": list(range(9)), "width": [1, 2]}))
    first = {(0, 1): 0.90, (0, 2): 0.95, (1, 1): 0.80, (2, 1): 0.70}
    second = {(0, 2): 0.50, (1, 1): 0.60, (2, 1): 0.55}
    calls = []

    def score(rows, candidates):
        calls.append([(c["noise"], c["width"]) for c in candidates])
        table = first if len(calls) == 1 else second
        return [Score(table.get((c["noise"], c["width"]), 0.1)) for c in candidates]

    chosen = selection.select(grid, np.arange(900) % 3, score, BY_FITS)
    assert calls[1:] == [[(0, 2), (1, 1), (2, 1)], [(1, 1)]]
    assert chosen.best == {"noise": 1, "width": 1}


@pytest.mark.parametrize(("n_fits", "expected"), [(3, "halving"), (1, "grid")])
def test_auto_halves_by_fits_when_there_is_more_than_one(n_fits, expected):
    assert _ran("auto", 6, 48_000, n_fits=n_fits) == expected
    assert _ran("auto", 6, 19_999, n_fits=n_fits) == "grid"


def test_halving_by_fits_has_keys_of_its_own():
    [trial] = toy_trials(["AE"])
    grid = {"noise": [0.1, 0.2], "width": [1, 2]}
    keys = {trial_key(trial, grid, "p 1", make_rule(strategy, shared))
            for strategy, shared in [("halving", ()), ("halving", ("width",)),
                                     ("grid", ()), ("grid", ("width",))]}
    assert len(keys) == 3  # a full grid is the same whatever is shared


WAYS = [(strategy, shared) for strategy in ("grid", "halving") for shared in ((), ("width",))]


def _keys():
    [trial] = toy_trials(["AE"])
    grid = {"noise": [0.1, 0.2], "width": [1, 2]}
    return {way: trial_key(trial, grid, "p 1", make_rule(*way)) for way in WAYS}


@pytest.mark.parametrize(("setting", "changed", "rules"), [
    ("KEEP_ALPHA", 0.01, [("halving", ("width",))]),
    ("FACTOR", 2, [("halving", ()), ("halving", ("width",))]),
])
def test_a_change_of_a_rules_setting_changes_the_keys_of_the_rules_it_is_part_of(
        monkeypatch, setting, changed, rules):
    before = _keys()
    monkeypatch.setattr(selection, setting, changed)
    after = _keys()
    assert [way for way in WAYS if after[way] != before[way]] == rules


@pytest.mark.parametrize(("name", "rules"), [
    ("grid", [("grid", ()), ("grid", ("width",))]),
    ("halving", [("halving", ())]),
    ("halving-by-fits", [("halving", ("width",))]),
])
def test_bumping_a_rules_version_changes_the_keys_of_that_rule_only(monkeypatch, name,
                                                                    rules):
    before = _keys()
    monkeypatch.setitem(selection.RULE_VERSIONS, name, selection.RULE_VERSIONS[name] + 1)
    after = _keys()
    # The full grid's keys leave the rule out (they stay what they always were),
    # so its version does not reach them; every other rule's does.
    changed = [way for way in WAYS if after[way] != before[way]]
    assert changed == ([] if name == "grid" else rules)


def test_a_rule_is_named_with_its_version_and_settings():
    assert make_rule("grid").identity() == {"name": "grid", "version": 1}
    by_fits = make_rule("halving", ("width", "C"))
    assert by_fits.identity() == {
        "name": "halving-by-fits", "version": selection.RULE_VERSIONS["halving-by-fits"],
        "factor": 3, "keep_alpha": 0.05, "shared_fit_params": ["C", "width"]}
    assert by_fits.strategy == "halving"


def test_grid_strategy_scores_everything_once_on_all_rows():
    calls = []
    chosen = selection.select(GRID, np.arange(1000) % 5, _scorer(calls), make_rule("grid"))
    assert calls == [(None, GRID)]
    assert isinstance(chosen, Selection) and chosen.samples == [1000] * 16


def test_covering_grids_contain_exactly_the_candidates():
    survivors = [GRID[i] for i in (1, 5, 9, 4, 14)]
    grids = covering_grids(survivors)
    covered = [c for grid in grids for c in ParameterGrid(grid)]
    assert sorted(map(repr, covered)) == sorted(map(repr, survivors))
    assert len(grids) <= 3
    assert covering_grids([{}]) == [{}]


# --- through the harness -----------------------------------------------------------

FIT_SIZES = []  # rows each Graded fit saw (inline runs only)


class Graded(ClassifierMixin, BaseEstimator):
    """Right on a share ``level / 8`` of the samples (label in feature 1)."""

    def __init__(self, level=0, random_state=None):
        self.level = level
        self.random_state = random_state

    def fit(self, X, y):
        FIT_SIZES.append(len(X))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        truth = np.rint(X[:, 1] * 10).astype(int)
        wrong = np.arange(len(X)) % 8 >= self.level
        return np.where(wrong, (truth + 1) % 4, truth)


class GradedPlugin:
    @benchbase.hookimpl
    def benchbase_register_algorithms(self):
        return [benchbase.AlgorithmSpec(name="Graded", family="test", factory=Graded,
                                        search_space={"level": list(range(9))})]

    @benchbase.hookimpl
    def benchbase_register_datasets(self):
        return [benchbase.DatasetSpec(name="toy", load=_toy)]


def _run_graded(folder, **options):
    catalog = load_catalog(extra=[(PluginInfo("graded", "tests", "graded-dist", "0.1"),
                                   GradedPlugin())])
    [row] = run_rows(catalog, folder, ["Graded"], executor="inline", **options)
    return row, artifacts.load(folder, row["trial_key"], row["artifacts_sha256"])


def test_halving_through_the_harness_records_its_rungs_and_picks_the_best(tmp_path):
    FIT_SIZES.clear()
    row, arrays = _run_graded(tmp_path, selection="halving")
    assert row["status"] == "ok" and row["selection"] == "halving"
    assert row["params"] == '{"level": 8}' and row["val_accuracy"] == 1.0
    # 9 candidates on 21 rows, the best 3 on all 64 fit rows, the final fit on 80.
    assert FIT_SIZES == [21] * 9 + [64] * 3 + [80]
    assert sorted(set(arrays["val_samples"])) == [21, 64]
    assert arrays["val_samples"][arrays["val_scores"].argmax()] == 64
    # Every scoring, rung by rung: levels 0-8 on 21 rows, then 6-8 on 64.
    history = arrays["val_history"]
    assert history[:, :2].tolist() == [[i, 21] for i in range(9)] + [[i, 64] for i in (6, 7, 8)]
    np.testing.assert_allclose(history[:9, 2], np.arange(9) / 8)


def test_auto_on_small_data_is_the_grid_with_the_keys_of_before(tmp_path):
    grid_row, arrays = _run_graded(tmp_path / "auto")
    assert grid_row["selection"] == "grid" and list(arrays["val_samples"]) == [64] * 9
    halving_row, _ = _run_graded(tmp_path / "halving", selection="halving")
    assert halving_row["trial_key"] != grid_row["trial_key"]  # results may differ
    explicit, _ = _run_graded(tmp_path / "grid", selection="grid")
    assert explicit["trial_key"] == grid_row["trial_key"]


def test_an_unknown_strategy_is_refused_before_running():
    with pytest.raises(ValueError, match="selection strategy must be one of"):
        RunOptions(selection="bayes")


def test_auto_keeps_the_grid_for_algorithms_whose_scorer_shares_the_grid():
    assert _ran("auto", 16, 48_000, halving_helps=False) == "grid"
    assert _ran("halving", 16, 48_000, halving_helps=False) == "halving"
    catalog = load_catalog()
    assert not catalog.algorithm("ELM").halving and not catalog.algorithm("RELM").halving
    assert catalog.algorithm("KELM").halving


def test_the_report_says_when_scores_come_from_different_rungs(tmp_path):
    _run_graded(tmp_path / "run", selection="halving")
    written = build_report(read_results([tmp_path / "run"]), tmp_path / "report", ["md"])
    text = written[0].read_text()
    assert "Chosen by successive halving" in text and "(21 to 64 fit rows)" in text
