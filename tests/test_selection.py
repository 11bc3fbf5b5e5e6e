"""Fast model selection must score exactly what fitting each grid point would."""

import collections
import dataclasses
import inspect

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import ParameterGrid

import benchbase
from benchbase.plugins import load_catalog
from benchbase.testing import validation_accuracies
from benchbase.trial.splits import validation_split
from benchbase_elm import ELMClassifier, RELMClassifier

GRIDS = {
    "ELM": {"n_hidden": [1000, 60, 300]},
    "KELM": {"kernel_width": [1.0, 2.0], "C": [1.0, 100.0, 1e4]},
    # 500 and 1500 hidden units straddle the 1,149 fit samples: primal and dual.
    "RELM": {"n_hidden": [1500, 500], "C": [0.1, 10.0, 1e4]},
}


@pytest.mark.parametrize("name", sorted(GRIDS))
def test_score_grid_equals_fitting_each_point(name, digits):
    spec = load_catalog().algorithm(name)
    assert spec.score_grid is not None
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    grid = GRIDS[name]
    candidates = list(ParameterGrid(grid))
    fast = validation_accuracies(spec, X_fit, y_fit, X_val, y_val, grid, candidates, {}, 0)
    slow = validation_accuracies(dataclasses.replace(spec, score_grid=None),
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


def test_score_grid_that_skips_a_grid_point_is_refused(digits):
    spec = load_catalog().algorithm("KELM")
    broken = dataclasses.replace(spec,
                                 score_grid=lambda **kwargs: spec.score_grid(**kwargs)[1:])
    grid = {"C": [1.0, 10.0]}
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    with pytest.raises(RuntimeError, match=r"score_grid\(\) did not score each grid point"):
        validation_accuracies(broken, X_fit, y_fit, X_val, y_val, grid,
                         list(ParameterGrid(grid)), {}, 0)


def test_score_grid_predictions_of_the_wrong_shape_are_refused_by_name(digits):
    spec = load_catalog().algorithm("KELM")
    column = dataclasses.replace(spec, score_grid=lambda **kwargs: [
        (point, predicted[:, None]) for point, predicted in spec.score_grid(**kwargs)])
    grid = {"C": [1.0, 10.0]}
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    with pytest.raises(ValueError, match=r"'KELM': score_grid\(\) returned an array of "
                                         rf"shape \({len(y_val)}, 1\)"):
        validation_accuracies(column, X_fit, y_fit, X_val, y_val, grid,
                         list(ParameterGrid(grid)), {}, 0)


def _split(digits):
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    return dict(X_fit=X_fit, y_fit=y_fit, X_val=X_val, y_val=y_val)


def test_score_grid_declines_grids_it_does_not_know(digits):
    spec = load_catalog().algorithm("KELM")
    assert spec.score_grid(**_split(digits), grid={"dtype": ["float32"]}, fixed_params={},
                           random_state=None) is None


@pytest.mark.parametrize("name", ["KELM", "RELM"])
def test_score_grid_rejects_invalid_grid_values(name, digits):
    spec = load_catalog().algorithm(name)
    with pytest.raises(ValueError, match="C must be a positive number"):
        spec.score_grid(**_split(digits), grid={"C": [1.0, -2.0]}, fixed_params={},
                        random_state=0)


def test_autoencoder_score_grid_matches_plain_fits(digits):
    pytest.importorskip("torch")
    spec = load_catalog().algorithm("SAE")
    tiny = {"n_hidden1": 16, "n_hidden2": 8, "epochs": 2, "n_threads": 1}
    grid = {"kernel_width": [0.5, 1.5], "sparsity_weight": [0.03, 0.3]}
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    candidates = list(ParameterGrid(grid))
    fast = validation_accuracies(spec, X_fit, y_fit, X_val, y_val, grid, candidates, tiny, 0)
    slow = validation_accuracies(dataclasses.replace(spec, score_grid=None),
                            X_fit, y_fit, X_val, y_val, grid, candidates, tiny, 0)
    np.testing.assert_allclose(fast, slow, atol=1.01 / len(y_val))


def test_autoencoder_score_grid_trains_each_encoder_once_and_fits_no_head(
        digits, monkeypatch):
    pytest.importorskip("torch")
    from benchbase_ae import StackedAutoencoderClassifier
    from benchbase_elm import KELMClassifier

    calls = collections.Counter()

    def counted(name, method):
        def wrapper(self, *args, **kwargs):
            calls[name] += 1
            return method(self, *args, **kwargs)
        return wrapper

    monkeypatch.setattr(StackedAutoencoderClassifier, "_fit_encoder",
                        counted("encoder", StackedAutoencoderClassifier._fit_encoder))
    monkeypatch.setattr(KELMClassifier, "fit", counted("head", KELMClassifier.fit))
    spec = load_catalog().algorithm("SAE")
    tiny = {"n_hidden1": 16, "n_hidden2": 8, "epochs": 2, "n_threads": 1}
    grid = {"kernel_width": [0.5, 1.5], "sparsity_weight": [0.03, 0.3]}
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    scores = validation_accuracies(spec, X_fit, y_fit, X_val, y_val, grid,
                              list(ParameterGrid(grid)), tiny, 0)
    assert len(scores) == 4
    # One training per sparsity weight; the head grid is scored, never fitted.
    assert calls == {"encoder": 2}


def test_the_harness_calls_score_grid_with_the_protocols_keywords(blobs):
    seen = {}

    def probe(*, X_fit, y_fit, X_val, y_val, grid, fixed_params, random_state):
        seen.update(grid=grid, fixed_params=fixed_params, random_state=random_state,
                    rows=(len(X_fit), len(y_fit), len(X_val), len(y_val)))
        return [(candidate, 0.5) for candidate in ParameterGrid(grid)]

    declared = inspect.signature(benchbase.GridScorer.__call__).parameters
    assert [name for name, p in declared.items() if p.kind is p.KEYWORD_ONLY] == list(
        inspect.signature(probe).parameters)
    spec = benchbase.AlgorithmSpec(name="Probe", family="test", factory=DummyClassifier,
                                   defaults={"strategy": "stratified"}, score_grid=probe)
    X, y = blobs
    grid = {"constant": [0, 1]}
    scores = validation_accuracies(spec, X[:80], y[:80], X[80:], y[80:], grid,
                              list(ParameterGrid(grid)), {"strategy": "uniform"}, 7)
    assert scores == [0.5, 0.5]
    assert seen == {"grid": grid, "fixed_params": {"strategy": "uniform"},
                    "random_state": 7, "rows": (80, 80, 40, 40)}
