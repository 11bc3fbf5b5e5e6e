"""KELM: kernel ELM with the Gaussian kernel of eq. (12), solved by Cholesky (eqs. 15-16)."""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator

import benchbase
from benchbase.linalg import (
    block_apply,
    gaussian_from_squared_distances,
    gaussian_kernel,
    ridge_fit,
    squared_distances,
    squared_norms,
)
from benchbase_elm._base import LabelTargetsMixin, candidate, check_positive, grid_values


class KELMClassifier(LabelTargetsMixin, BaseEstimator):
    """Kernel extreme learning machine: beta = (I/C + Ω)⁻¹ Y, f(x) = K(x, X) beta.

    Parameters:
        C: ridge trade-off (larger = less regularization).
        kernel_width: γ of eq. (12), K(a, b) = exp(−‖a − b‖² / (2 γ²)). A width,
            not scikit-learn's ``gamma`` (which equals 1 / (2 γ²)).
        dtype: "float32" (default) or "float64". A system that float32
            Cholesky cannot factor is solved in float64 (``solve_dtype_`` says
            which ran). A float32 system that factors but is very
            ill-conditioned (large C) can still lose accuracy; selection on
            validation data sees that, and ``dtype="float64"`` avoids it.

    Equivalent to ``sklearn.kernel_ridge.KernelRidge(kernel="rbf",
    alpha=1/C, gamma=1/(2 γ²))`` on one-hot targets.
    """

    def __init__(self, C=1.0, kernel_width=1.0, dtype="float32"):
        self.C = C
        self.kernel_width = kernel_width
        self.dtype = dtype

    def fit(self, X, y):
        X, targets = self._validate_fit(X, y)
        check_positive("C", self.C)
        check_positive("kernel_width", self.kernel_width)

        def system(dtype):
            Xd = X.astype(dtype, copy=False)
            return gaussian_kernel(Xd, Xd, self.kernel_width), targets

        dual_coef, self.solve_dtype_ = ridge_fit(system, self.C, X.dtype)
        self.X_fit_ = X
        self._X_fit_sq_norms = squared_norms(X)
        self.dual_coef_ = dual_coef  # float64 when the solve was promoted
        return self

    def _decision(self, X):
        return block_apply(
            lambda block: gaussian_kernel(
                block, self.X_fit_, self.kernel_width,
                B_sq_norms=self._X_fit_sq_norms,
            ) @ self.dual_coef_,
            X,
        )


def select(X_fit, y_fit, X_val, y_val, grid, fixed_params, random_state):
    """Score every (C, kernel_width) from one pair of squared-distance matrices.

    The distances (the GEMM) are computed once for all widths; each width
    exponentiates them once for all C; each C costs one Cholesky solve.
    """
    if set(grid) - {"C", "kernel_width"}:
        return None
    model = KELMClassifier(**fixed_params)
    widths = grid_values(grid, "kernel_width", model.kernel_width)
    Cs = grid_values(grid, "C", model.C)
    for name, values in (("kernel_width", widths), ("C", Cs)):
        for value in values:
            check_positive(name, value)
    X, targets = model._validate_fit(X_fit, y_fit)
    distances = squared_distances(X, X)
    val_distances = squared_distances(np.asarray(X_val, dtype=X.dtype), X)
    scored = []
    for width in widths:
        kernel = gaussian_from_squared_distances(distances, width)
        val_kernel = gaussian_from_squared_distances(val_distances, width)
        for C in Cs:
            dual_coef, _ = ridge_fit(
                lambda dtype, kernel=kernel: (kernel.astype(dtype), targets.astype(dtype)),
                C, X.dtype)
            scores = val_kernel @ dual_coef.astype(X.dtype, copy=False)
            accuracy = np.mean(model._labels(scores) == y_val)
            scored.append((candidate(grid, C=C, kernel_width=width), float(accuracy)))
    return scored


def _search_space(n_samples: int, n_features: int) -> dict:
    # Distances between images grow like sqrt(n_features); so does a good width.
    root = math.sqrt(n_features)
    return {
        "kernel_width": [round(root * f, 4) for f in (0.1, 0.14, 0.2, 0.28)],
        "C": [1.0, 10.0, 100.0, 1000.0],
    }


@benchbase.hookimpl
def benchbase_register_algorithms():
    return [
        benchbase.AlgorithmSpec(
            name="KELM",
            family="ELM",
            factory=KELMClassifier,
            search_space=_search_space,
            select=select,
            randomized=False,
            description="Kernel ELM: Gaussian kernel ridge, Cholesky solve",
        )
    ]
