"""RELM: ELM with ridge output weights, beta = (I/C + HᵀH)⁻¹ HᵀT."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

import benchbase
from benchbase.linalg import BLOCK_ROWS, ridge_fit
from benchbase_elm._base import RandomHiddenLayerClassifier, check_positive

SOLVERS = ("auto", "primal", "dual")


class RELMClassifier(RandomHiddenLayerClassifier):
    """Regularized ELM.

    Parameters:
        n_hidden: hidden neurons L.
        C: ridge trade-off (larger = less regularization).
        solver: "primal" solves the L×L system (I/C + HᵀH) beta = HᵀT with HᵀH
            accumulated over row blocks; "dual" solves the N×N system
            (I/C + HHᵀ) alpha = T and sets beta = Hᵀ alpha; "auto" picks the
            smaller system.
        dtype: "float32" (default) or "float64". A float32 system too
            ill-conditioned for float32 Cholesky is solved in float64
            (``solve_dtype_`` says which ran).
        random_state: seeds the input weights and biases.
    """

    def __init__(self, n_hidden=1000, C=1.0, solver="auto", dtype="float32",
                 random_state=None):
        self.n_hidden = n_hidden
        self.C = C
        self.solver = solver
        self.dtype = dtype
        self.random_state = random_state

    def fit(self, X, y):
        X, targets = self._validate_fit(X, y)
        check_positive("C", self.C)
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {self.solver!r}")
        self._init_hidden(X.shape[1], check_random_state(self.random_state), X.dtype)
        n_samples = X.shape[0]
        solver = self.solver
        if solver == "auto":
            solver = "primal" if n_samples >= self.n_hidden else "dual"
        self.solver_ = solver

        def primal_system(dtype):
            gram = np.zeros((self.n_hidden, self.n_hidden), dtype=dtype)
            rhs = np.zeros((self.n_hidden, targets.shape[1]), dtype=dtype)
            for start in range(0, n_samples, BLOCK_ROWS):
                H = self._hidden(X[start:start + BLOCK_ROWS]).astype(dtype, copy=False)
                gram += H.T @ H
                rhs += H.T @ targets[start:start + BLOCK_ROWS]
            return gram, rhs

        def dual_system(dtype):
            H = self._hidden(X).astype(dtype, copy=False)
            return H @ H.T, targets

        if solver == "primal":
            coef, self.solve_dtype_ = ridge_fit(primal_system, self.C, X.dtype)
        else:
            alpha, self.solve_dtype_ = ridge_fit(dual_system, self.C, X.dtype)
            coef = self._hidden(X).T.astype(alpha.dtype, copy=False) @ alpha
        self.coef_ = coef.astype(X.dtype, copy=False)
        return self


def _search_space(n_samples: int, n_features: int) -> dict:
    return {
        "n_hidden": [1000, 2000, 4000],
        "C": [1e-1, 1.0, 10.0, 100.0, 1000.0],
    }


@benchbase.hookimpl
def benchbase_register_algorithms():
    return [
        benchbase.AlgorithmSpec(
            name="RELM",
            family="ELM",
            factory=RELMClassifier,
            search_space=_search_space,
            description="Regularized ELM: ridge output weights (primal or dual form)",
        )
    ]
