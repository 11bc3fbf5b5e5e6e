"""ELM: random sigmoid hidden layer, output weights by least squares (pseudo-inverse)."""

from __future__ import annotations

import numpy as np
import scipy.linalg

import benchbase
from benchbase_elm._base import RandomHiddenLayerClassifier, candidate, grid_values


def _least_squares(H, targets):
    # Minimum-norm least squares = the Moore–Penrose pseudo-inverse solution.
    coef, *_ = scipy.linalg.lstsq(H, targets, check_finite=False,
                                  overwrite_a=True, overwrite_b=True)
    return coef


class ELMClassifier(RandomHiddenLayerClassifier):
    """Extreme Learning Machine (Huang et al.): beta = pinv(H) T.

    Parameters:
        n_hidden: hidden neurons L.
        dtype: "float32" (default) or "float64" for all arithmetic.
        random_state: seeds the input weights and biases.
    """

    def __init__(self, n_hidden=1000, dtype="float32", random_state=None):
        self.n_hidden = n_hidden
        self.dtype = dtype
        self.random_state = random_state

    def fit(self, X, y):
        X, targets = self._validate_fit(X, y)
        self._init_hidden(X.shape[1], X.dtype)
        self.coef_ = _least_squares(self._hidden(X), targets)
        return self


def select(X_fit, y_fit, X_val, y_val, grid, fixed_params, random_state):
    """Score every hidden size from one hidden layer of the largest size.

    Layers are nested (see ``random_hidden_layer``), so the first L columns of
    the largest layer's activations are exactly a size-L ELM's.
    """
    if set(grid) - {"n_hidden"}:
        return None
    model = ELMClassifier(**{**fixed_params, "random_state": random_state})
    sizes = grid_values(grid, "n_hidden", model.n_hidden)
    X, targets = model._validate_fit(X_fit, y_fit)
    model._init_hidden(X.shape[1], X.dtype, n_hidden=max(sizes))
    H, H_val = model._hidden(X), model._hidden(np.asarray(X_val, dtype=X.dtype))
    scored = []
    for size in sizes:
        coef = _least_squares(H[:, :size].copy(), targets.copy())
        accuracy = np.mean(model._labels(H_val[:, :size] @ coef) == y_val)
        scored.append((candidate(grid, n_hidden=size), float(accuracy)))
    return scored


def _search_space(n_samples: int, n_features: int) -> dict:
    # Without regularization the useful L stays below the sample count.
    sizes = [250, 500, 1000, 2000, 4000]
    return {"n_hidden": [L for L in sizes if L < n_samples] or [sizes[0]]}


@benchbase.hookimpl
def benchbase_register_algorithms():
    return [
        benchbase.AlgorithmSpec(
            name="ELM",
            family="ELM",
            factory=ELMClassifier,
            search_space=_search_space,
            select=select,
            description="Extreme learning machine: random sigmoid layer, pseudo-inverse",
        )
    ]
