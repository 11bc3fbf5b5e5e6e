"""A conformance check for algorithm plugins: test yours the way we test ours.

In your plugin's test suite::

    from benchbase.testing import check_algorithm

    def test_my_plugin():
        check_algorithm("MyAlgo")

It loads the plugin through its entry point (so the packaging is tested too)
and checks the contract the harness relies on; a failure says what is wrong.
For the full scikit-learn estimator contract, add
``sklearn.utils.estimator_checks.parametrize_with_checks`` as we do.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.model_selection import ParameterGrid

from benchbase.plugins import load_catalog
from benchbase.specs import AlgorithmSpec
from benchbase.trial.estimator import make_estimator
from benchbase.trial.scoring import validate_candidates


def _problem(seed: int = 0):
    """A small, easy 3-class problem with pixels in [0, 1] (float32)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.2, 0.8, size=(3, 16))
    y = np.repeat(np.arange(3), 30)
    X = np.clip(centres[y] + rng.normal(0, 0.05, size=(90, 16)), 0, 1)
    return X.astype(np.float32), y


def _small_grid(spec: AlgorithmSpec, n_samples: int, n_features: int) -> dict:
    """The first two values of each searched parameter (keeps the check quick)."""
    return {name: values[:2] for name, values in spec.grid(n_samples, n_features).items()}


def validation_accuracies(spec: AlgorithmSpec, X_fit, y_fit, X_val, y_val, grid: dict,
                          candidates: list[dict], fixed_params: dict, seed: int = 0
                          ) -> list[float]:
    """Each candidate's validation accuracy as the harness scores it: through the
    spec's ``score_grid`` where it has one (compare with
    ``dataclasses.replace(spec, score_grid=None)``, which fits each candidate)."""
    return [score.accuracy for score in validate_candidates(
        spec, X_fit, y_fit, X_val, y_val, grid, candidates, fixed_params, seed)]


def check_algorithm(name: str, *, params: dict | None = None) -> None:
    """Assert that the registered algorithm ``name`` honours the harness's contract.

    ``params`` fixes parameters for a cheap check (e.g. few epochs).
    """
    spec = load_catalog().algorithm(name)
    params = dict(params or {})
    X, y = _problem()
    model = make_estimator(spec, params, seed=0)
    known = set(model.get_params())
    grid = _small_grid(spec, len(y), X.shape[1])
    unknown = (set(grid) | set(spec.defaults) | set(params)) - known
    assert not unknown, f"{name}: search space or defaults name unknown parameters {unknown}"
    if spec.randomized:
        assert "random_state" in known, f"{name}: randomized but has no random_state"

    fitted = model.fit(X, y)
    assert fitted is model, f"{name}: fit() must return self"
    predicted = model.predict(X)
    assert predicted.shape == y.shape, f"{name}: predict() returned shape {predicted.shape}"
    assert set(np.unique(predicted)) <= set(y), f"{name}: predict() invented labels"
    assert np.mean(predicted == y) > 0.6, f"{name}: cannot learn a trivial problem"

    again = make_estimator(spec, params, seed=0).fit(X, y).predict(X)
    assert np.array_equal(again, predicted), f"{name}: same seed, different predictions"

    grid = {k: v for k, v in grid.items() if k not in params}
    if grid and spec.score_grid is not None:
        X_val, y_val = _problem(seed=1)
        candidates = list(ParameterGrid(grid))
        fast = validation_accuracies(spec, X, y, X_val, y_val, grid, candidates, params)
        generic = dataclasses.replace(spec, score_grid=None)
        slow = validation_accuracies(generic, X, y, X_val, y_val, grid, candidates, params)
        assert np.allclose(fast, slow, atol=1.01 / len(y_val)), (
            f"{name}: score_grid() scores {fast} differ from fitting each point {slow}")
