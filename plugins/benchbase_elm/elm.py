"""ELM: random sigmoid hidden layer, output weights by least squares (pseudo-inverse)."""

from __future__ import annotations

import benchbase
from benchbase.numerics.devices import copy, to_device, to_numpy
from benchbase.numerics.linalg import least_squares
from benchbase_elm._base import RandomHiddenLayerClassifier, candidate, grid_values


class ELMClassifier(RandomHiddenLayerClassifier):
    """Extreme Learning Machine (Huang et al.): beta = pinv(H) T.

    Parameters:
        n_hidden: hidden neurons L.
        dtype: "float32" (default) or "float64" for all arithmetic.
        device: "cpu" (default: NumPy/SciPy), "cuda" (torch on the GPU; the
            pseudo-inverse is then torch's SVD-based one) or "auto" (CUDA when
            torch sees one). Fitted arrays are NumPy arrays either way.
        random_state: seeds the input weights and biases.
    """

    def __init__(self, n_hidden=1000, dtype="float32", device="cpu", random_state=None):
        self.n_hidden = n_hidden
        self.dtype = dtype
        self.device = device
        self.random_state = random_state

    def fit(self, X, y):
        X, targets = self._validate_fit(X, y)
        device = self._resolve_device()
        self._init_hidden(X.shape[1], X.dtype)
        H = self._hidden(to_device(X, device))
        self.coef_ = to_numpy(least_squares(H, to_device(targets, device)))  # pinv(H) T
        return self


def score_elm_grid(*, X_fit, y_fit, X_val, y_val, grid, fixed_params, random_state):
    """ELM's ``benchbase.GridScorer``: every hidden size from one layer of the largest.

    Layers are nested (``random_hidden_layer``), so H and the validation H of
    every size are column prefixes of the largest layer's, computed once. Each
    size still needs its own pseudo-inverse: the column-pivoted QR behind it
    does not nest.
    """
    if set(grid) - {"n_hidden"}:
        return None
    model = ELMClassifier(**{**fixed_params, "random_state": random_state})
    sizes = sorted(grid_values(grid, "n_hidden", model.n_hidden))
    X, targets, H_val = model._selection_layers(X_fit, y_fit, X_val, sizes)
    H = model._hidden(X)
    scored = []
    for size in sizes:
        # Copies: the solver may overwrite its inputs.
        coef = least_squares(copy(H[:, :size]), copy(targets))
        scored.append((candidate(grid, n_hidden=size), model._labels(H_val[:, :size] @ coef)))
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
            score_grid=score_elm_grid,
            # Scoring every hidden size costs about one fit of the largest.
            halving=False,
            description="Extreme learning machine: random sigmoid layer, pseudo-inverse",
        )
    ]
