"""ELM-AE features with a KELM head: one ELM autoencoder (Kasun et al. 2013)
learns a layer sigmoid(X βᵀ); benchbase_elm's KELM classifies its output,
the head the backprop autoencoders (AE, SAE, DAE, DDAE) use, so the two
families' features meet the same classifier."""

from __future__ import annotations

import math
import time

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.model_selection import ParameterGrid
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

import benchbase
from benchbase.numerics.linalg import block_apply, for_inference
from benchbase_elm import KELMClassifier, candidate, check_positive, score_kelm_grid
from benchbase_elmae._base import ELMStackClassifier
from benchbase_elmae._layers import elm_autoencoder, sigmoid

#: The KELM head's parameters: they do not change the ELM-AE's training.
HEAD_PARAMS = ("C", "kernel_width")


class ELMAEClassifier(TransformerMixin, ELMStackClassifier):
    """One ELM-AE layer, then KELM.

    Parameters:
        n_hidden: the ELM-AE's width (Kasun et al.'s MNIST layers: 700).
        ae_C: the ELM-AE's ridge trade-off, β = (HᵀH + I/C)⁻¹ HᵀX.
        C, kernel_width: the KELM head's (``benchbase_elm.KELMClassifier``).
        dtype, memory_budget, random_state: as for KELM; the seed also draws
            the ELM-AE's random layer.
    """

    def __init__(self, n_hidden=700, ae_C=1e3, C=100.0, kernel_width=1.0,
                 dtype="float32", memory_budget=None, random_state=None):
        self.n_hidden = n_hidden
        self.ae_C = ae_C
        self.C = C
        self.kernel_width = kernel_width
        self.dtype = dtype
        self.memory_budget = memory_budget
        self.random_state = random_state

    def _fit_encoder(self, X: np.ndarray) -> np.ndarray:
        check_positive("n_hidden", self.n_hidden, integer=True)
        check_positive("ae_C", self.ae_C)
        self.weights_ = elm_autoencoder(X, self.n_hidden, self.ae_C,
                                        check_random_state(self.random_state))
        return self._encode(X)

    def _encode(self, X: np.ndarray) -> np.ndarray:
        weights = self.weights_.T.astype(X.dtype)
        return block_apply(lambda block: sigmoid(block @ weights), X)

    def _head(self, **params) -> KELMClassifier:
        return KELMClassifier(**{"C": self.C, "kernel_width": self.kernel_width,
                                 "dtype": self.dtype, "memory_budget": self.memory_budget,
                                 "random_state": self.random_state, **params})

    def fit(self, X, y):
        X, _ = self._validate_fit(X, y)
        started = time.perf_counter()
        features = self._fit_encoder(X)
        encoded = time.perf_counter() - started
        self.head_ = self._head().fit(features, y)
        # The KELM head's record (solver, iterations, seconds per stage), with
        # the encoder's seconds beside its stages.
        info = dict(self.head_.fit_info_)
        self.fit_info_ = {**info, "seconds": {"encoder": round(encoded, 3),
                                              **info.get("seconds", {})}}
        return self

    def transform(self, X) -> np.ndarray:
        """The ELM-AE layer's output, the head's input."""
        check_is_fitted(self)
        X, = for_inference(self._validate_predict(X))
        return self._encode(X).astype(np.dtype(self.dtype))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = [self.dtype]  # features in its dtype
        return tags

    def decision_function(self, X):
        check_is_fitted(self)
        return self.head_.decision_function(self.transform(X))

    def predict(self, X):
        check_is_fitted(self)
        return self.head_.predict(self.transform(X))


def score_elmae_grid(*, X_fit, y_fit, X_val, y_val, grid, fixed_params, random_state):
    """ELM-AE's grid scorer: one ELM-AE per setting of its own parameters, and
    the head's grid scored on its features by KELM's own grid scorer."""
    body_grid = {name: values for name, values in grid.items() if name not in HEAD_PARAMS}
    head_grid = {name: values for name, values in grid.items() if name in HEAD_PARAMS}
    if set(body_grid) - {"n_hidden", "ae_C"}:
        return None
    scored = []
    for body in ParameterGrid(body_grid):
        model = ELMAEClassifier(**{**fixed_params, **body, "random_state": random_state})
        X, _ = model._validate_fit(X_fit, y_fit)
        features = model._fit_encoder(X)
        val_features = model._encode(np.asarray(X_val, dtype=X.dtype))
        head_fixed = {name: getattr(model, name) for name in HEAD_PARAMS
                      if name not in head_grid}
        head = model._head()
        head_params = {**{k: v for k, v in head.get_params().items()
                          if k not in HEAD_PARAMS}, **head_fixed}
        for point, labels in score_kelm_grid(
                X_fit=features, y_fit=y_fit, X_val=val_features, y_val=y_val,
                grid=head_grid, fixed_params=head_params, random_state=random_state):
            scored.append(({**candidate(grid, **body), **point}, labels))
    return scored


def _search_space(n_samples: int, n_features: int) -> dict:
    # The head's widths scale like the features' distances: sqrt(n_hidden)
    # for sigmoid outputs spread over [0, 1].
    root = math.sqrt(700)
    return {
        "ae_C": [1e1, 1e3],
        "kernel_width": [round(root * f, 4) for f in (0.1, 0.2, 0.4)],
        "C": [10.0, 1000.0],
    }


@benchbase.hookimpl
def benchbase_register_algorithms():
    return [
        benchbase.AlgorithmSpec(
            name="ELM-AE",
            family="ELM",
            factory=ELMAEClassifier,
            search_space=_search_space,
            score_grid=score_elmae_grid,
            shared_fit_params=HEAD_PARAMS,
            description="ELM autoencoder features (Kasun et al. 2013) with a KELM head",
        )
    ]
