"""Fast model selection must score exactly what fitting each grid point would."""

import numpy as np
import pytest
from sklearn.model_selection import ParameterGrid

from benchbase.plugins import load_catalog
from benchbase.runner import score_candidates
from benchbase.splits import validation_split
from benchbase_elm import ELMClassifier, RELMClassifier

GRIDS = {
    "ELM": {"n_hidden": [1000, 60, 300]},
    "KELM": {"kernel_width": [1.0, 2.0], "C": [1.0, 100.0, 1e4]},
    # 500 and 1500 hidden units straddle the 1,149 fit samples: primal and dual.
    "RELM": {"n_hidden": [1500, 500], "C": [0.1, 10.0, 1e4]},
}


@pytest.mark.parametrize("name", sorted(GRIDS))
def test_select_scores_equal_fitting_each_point(name, digits):
    spec = load_catalog().algorithm(name)
    assert spec.select is not None
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    grid = GRIDS[name]
    candidates = list(ParameterGrid(grid))
    fast = score_candidates(spec, X_fit, y_fit, X_val, y_val, grid, candidates, {}, 0)
    slow = score_candidates(spec.__class__(**{**spec.__dict__, "select": None}),
                            X_fit, y_fit, X_val, y_val, grid, candidates, {}, 0)
    # Same models up to float32 rounding: at most one validation sample may flip.
    np.testing.assert_allclose(fast, slow, atol=1.01 / len(y_val))
    assert len(set(slow)) > 1  # the grid really discriminates


def test_hidden_layers_are_nested(blobs):
    X, y = blobs
    small = RELMClassifier(n_hidden=7, random_state=3).fit(X, y)
    large = ELMClassifier(n_hidden=30, random_state=3).fit(X, y)
    np.testing.assert_array_equal(small.input_weights_, large.input_weights_[:, :7])
    np.testing.assert_array_equal(small.biases_, large.biases_[:7])


def test_select_that_skips_a_grid_point_is_refused(digits):
    spec = load_catalog().algorithm("KELM")
    broken = spec.__class__(**{**spec.__dict__,
                               "select": lambda *args: spec.select(*args)[1:]})
    grid = {"C": [1.0, 10.0]}
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    with pytest.raises(RuntimeError, match="did not score each grid point exactly once"):
        score_candidates(broken, X_fit, y_fit, X_val, y_val, grid,
                         list(ParameterGrid(grid)), {}, 0)


def test_select_declines_grids_it_does_not_know(digits):
    spec = load_catalog().algorithm("KELM")
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    assert spec.select(X_fit, y_fit, X_val, y_val, {"dtype": ["float32"]}, {}, None) is None


@pytest.mark.parametrize("name", ["KELM", "RELM"])
def test_select_rejects_invalid_grid_values(name, digits):
    spec = load_catalog().algorithm(name)
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    with pytest.raises(ValueError, match="C must be a positive number"):
        spec.select(X_fit, y_fit, X_val, y_val, {"C": [1.0, -2.0]}, {}, 0)


def test_autoencoder_select_trains_once_per_body_and_matches_plain_fits(digits):
    pytest.importorskip("torch")
    spec = load_catalog().algorithm("SAE")
    tiny = {"n_hidden1": 16, "n_hidden2": 8, "epochs": 2, "n_threads": 1}
    grid = {"kernel_width": [0.5, 1.5], "sparsity_weight": [0.03, 0.3]}
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    candidates = list(ParameterGrid(grid))
    fast = score_candidates(spec, X_fit, y_fit, X_val, y_val, grid, candidates, tiny, 0)
    slow = score_candidates(spec.__class__(**{**spec.__dict__, "select": None}),
                            X_fit, y_fit, X_val, y_val, grid, candidates, tiny, 0)
    np.testing.assert_allclose(fast, slow, atol=1.01 / len(y_val))
