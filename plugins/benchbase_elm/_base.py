"""What ELM, RELM and KELM share: validation, targets, the random hidden layer."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from benchbase.numerics.devices import (
    astype,
    is_torch,
    matmul,
    on_device_of,
    resolve_device,
    to_device,
    to_numpy,
)
from benchbase.numerics.linalg import block_apply, for_inference

DTYPES = ("float32", "float64")


def check_dtype(dtype: str) -> np.dtype:
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    return np.dtype(dtype)


def check_positive(name: str, value, *, integer: bool = False) -> None:
    kind = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        what = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {what}, got {value!r}")


class LabelTargetsMixin(ClassifierMixin):
    """Classifier plumbing on top of a multi-output regression in ``_decision``.

    Targets are one-hot rows (eq. 15's Y). ELM papers often code ±1 instead;
    for every method here the arg-max is the same, because ±1 = 2·onehot − 1
    and the constant part adds the same score to every class.
    """

    def _validate_fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        dtype = check_dtype(self.dtype)
        targets = np.zeros((X.shape[0], len(self.classes_)), dtype=dtype)
        targets[np.arange(X.shape[0]), encoded] = 1
        return np.asarray(X, dtype=dtype), targets

    def _validate_predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return np.asarray(X, dtype=check_dtype(self.dtype))

    def _labels(self, scores):
        return self.classes_[np.argmax(to_numpy(scores), axis=1)]

    def _resolve_device(self):
        """Where ``fit`` computes: None (NumPy/SciPy) or a torch device
        (``benchbase.numerics.devices``); validates ``device``."""
        return resolve_device(self.device)

    def decision_function(self, X):
        """Per-class scores (n_samples, n_classes); a vector for two classes."""
        scores = self._decision(self._validate_predict(X))
        if len(self.classes_) == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X):
        return self._labels(self._decision(self._validate_predict(X)))


def random_hidden_layer(n_features: int, n_hidden: int, random_state, dtype):
    """Input weights U(−1, 1) and biases U(0, 1), as in Huang's reference ELM.

    Drawn unit by unit (one row of draws per hidden unit), so for one
    ``random_state`` the first L units of any larger layer are these L units:
    hidden layers are nested, and model selection can score every size from
    one layer of the largest size.
    """
    draws = random_state.uniform(0.0, 1.0, size=(n_hidden, n_features + 1))
    weights = np.ascontiguousarray((2.0 * draws[:, :-1] - 1.0).T, dtype=dtype)
    return weights, draws[:, -1].astype(dtype)


def hidden_activations(X, weights, biases):
    """H = sigmoid(X W + b), where X lives (the weights follow it)."""
    H = X @ on_device_of(X, weights)
    H += on_device_of(X, biases)
    if is_torch(H):
        return H.sigmoid_()
    # sigmoid(x) = (1 + tanh(x/2)) / 2: NumPy's SIMD tanh makes this 2.4x
    # faster than scipy's expit at 7,291 x 4,000 (equal to 1.2e-7 in float32).
    H *= 0.5
    np.tanh(H, out=H)
    H *= 0.5
    H += 0.5
    return H


class RandomHiddenLayerClassifier(LabelTargetsMixin, BaseEstimator):
    """Base for ELM and RELM: a random sigmoid layer, then linear output weights."""

    def _init_hidden(self, n_features, dtype, n_hidden=None):
        n_hidden = self.n_hidden if n_hidden is None else n_hidden
        check_positive("n_hidden", n_hidden, integer=True)
        self.input_weights_, self.biases_ = random_hidden_layer(
            n_features, n_hidden, check_random_state(self.random_state), dtype
        )

    def _hidden(self, X):
        return hidden_activations(X, self.input_weights_, self.biases_)

    def _selection_layers(self, X_fit, y_fit, X_val, sizes):
        """For scoring several hidden sizes at once: the validated fit data and
        the validation activations of the largest layer (a smaller layer is its
        first units), all on the model's device. Returns (X, targets, H_val)."""
        X, targets = self._validate_fit(X_fit, y_fit)
        self._init_hidden(X.shape[1], X.dtype, n_hidden=max(sizes))
        device = self._resolve_device()
        H_val = self._hidden(to_device(np.asarray(X_val, dtype=X.dtype), device))
        return to_device(X, device), to_device(targets, device), H_val

    def _decision(self, X):
        """Scores in the output weights' dtype, computed as ``for_inference`` says."""
        X = to_device(X, self._resolve_device())
        X, weights, biases, coef = for_inference(X, *(on_device_of(X, a) for a in (
            self.input_weights_, self.biases_, self.coef_)))
        scores = block_apply(
            lambda block: matmul(hidden_activations(block, weights, biases), coef), X)
        return astype(to_numpy(scores), self.coef_.dtype)



def grid_values(grid, name, default):
    """The values a selector must try for ``name``: the grid's, or the one fixed value."""
    return list(grid.get(name, [default]))


def candidate(grid, **values):
    """The grid point as the harness names it (only the searched parameters)."""
    return {name: value for name, value in values.items() if name in grid}
