"""KELM: kernel ELM with the Gaussian kernel of eq. (12), solved by Cholesky (eqs. 15-16)."""

from __future__ import annotations

import math

from sklearn.base import BaseEstimator

import benchbase
from benchbase.linalg import block_apply, gaussian_kernel, ridge_fit, squared_norms
from benchbase_elm._base import LabelTargetsMixin, check_positive


class KELMClassifier(LabelTargetsMixin, BaseEstimator):
    """Kernel extreme learning machine: beta = (I/C + Ω)⁻¹ Y, f(x) = K(x, X) beta.

    Parameters:
        C: ridge trade-off (larger = less regularization).
        kernel_width: γ of eq. (12), K(a, b) = exp(−‖a − b‖² / (2 γ²)). A width,
            not scikit-learn's ``gamma`` (which equals 1 / (2 γ²)).
        dtype: "float32" (default) or "float64". A float32 system too
            ill-conditioned for float32 Cholesky is solved in float64
            (``solve_dtype_`` says which ran).

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
        self.dual_coef_ = dual_coef.astype(X.dtype, copy=False)
        return self

    def _decision(self, X):
        return block_apply(
            lambda block: gaussian_kernel(
                block, self.X_fit_, self.kernel_width,
                B_sq_norms=self._X_fit_sq_norms,
            ) @ self.dual_coef_,
            X,
        )


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
            randomized=False,
            description="Kernel ELM: Gaussian kernel ridge, Cholesky solve",
        )
    ]
