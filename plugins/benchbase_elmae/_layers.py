"""The pieces ELM-AE, ML-ELM and H-ELM are built from, each written once.

Everything here is NumPy on the CPU, in the estimator's dtype, and allocates
at most one (rows × width) block at a time where a whole matrix would be
large (``BLOCK_ROWS`` rows of benchbase's shared numerics).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from benchbase.numerics.linalg import BLOCK_ROWS, gram_accumulate, ridge_solve


def orthogonal_random(n_in: int, n_out: int, random_state, dtype) -> np.ndarray:
    """An (n_in × n_out) matrix of uniform(−1, 1) draws made orthonormal: its
    columns when n_out ≤ n_in, else its rows (Kasun et al. 2013: "orthogonal
    random weights"; Tang et al.'s ``orth(2*rand(n_in, n_out)' - 1)'``)."""
    draws = 2.0 * random_state.uniform(size=(n_in, n_out)) - 1.0
    if n_out <= n_in:
        q, _ = np.linalg.qr(draws)  # orthonormal columns spanning the draws'
        return q.astype(dtype)
    q, _ = np.linalg.qr(draws.T)  # (n_out × n_in): orthonormal columns
    return np.ascontiguousarray(q.T, dtype=dtype)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """expit in place (the activation of ELM-AE and ML-ELM layers)."""
    return expit(Z, out=Z)


def blocked_gram(features, X: np.ndarray, targets: np.ndarray, width: int, dtype
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(HᵀH, HᵀT) for H = ``features(X[block])`` (rows × width), over row blocks:
    H itself never exists whole (60,000 × 15,000 would be 3.6 GB in float32).
    HᵀH's lower triangle only (Fortran order), what ``ridge_fit`` reads."""
    gram = np.zeros((width, width), dtype=dtype, order="F")
    rhs = np.zeros((width, targets.shape[1]), dtype=dtype)
    for start in range(0, X.shape[0], BLOCK_ROWS):
        H = features(X[start:start + BLOCK_ROWS]).astype(dtype, copy=False)
        gram_accumulate(gram, H)
        rhs += H.T @ targets[start:start + BLOCK_ROWS].astype(dtype, copy=False)
    return gram, rhs


class RidgeSystem:
    """HᵀH and HᵀT for H = ``features(X)`` over row blocks, solved for any C:
    (HᵀH + I/C) β = HᵀT. In ``dtype`` while its Cholesky factorization
    succeeds; once one fails, rebuilt from the data in float64 and kept so (a
    converted float32 HᵀH would keep its rounding, which can exceed I/C)."""

    def __init__(self, features, X: np.ndarray, targets: np.ndarray, width: int,
                 dtype) -> None:
        self._build = (features, X, targets, width)
        self.gram, self.rhs = blocked_gram(features, X, targets, width, dtype)

    @property
    def dtype(self) -> np.dtype:
        return self.gram.dtype

    def solve(self, C: float) -> np.ndarray:
        """β for this C, in ``dtype`` (float64 after a rebuild)."""
        try:
            return ridge_solve(self.gram, self.rhs, C)
        except np.linalg.LinAlgError:
            if self.gram.dtype == np.float64:
                raise
        self.gram = self.rhs = None  # free the float32 system first
        self.gram, self.rhs = blocked_gram(*self._build, np.float64)
        return ridge_solve(self.gram, self.rhs, C)


def elm_autoencoder(X: np.ndarray, n_hidden: int, C: float, random_state
                    ) -> np.ndarray:
    """One ELM-AE (Kasun et al. 2013): orthogonal random input weights a and a
    unit-norm random bias b, H = sigmoid(X a + b), and the output weights that
    reconstruct X by ridge regression, β = (HᵀH + I/C)⁻¹ HᵀX (n_hidden ×
    n_features). The layer it learns maps X to sigmoid(X βᵀ)."""
    n_features = X.shape[1]
    weights = orthogonal_random(n_features, n_hidden, random_state, X.dtype)
    bias = orthogonal_random(n_hidden, 1, random_state, X.dtype)[:, 0]

    def hidden(block):
        return sigmoid(block @ weights + bias)

    return RidgeSystem(hidden, X, X, n_hidden, X.dtype).solve(C).astype(X.dtype)


def fista_lasso(A: np.ndarray, B: np.ndarray, penalty: float, iterations: int
                ) -> np.ndarray:
    """X for ‖A X − B‖² + penalty·‖X‖₁, by the FISTA-like iteration of H-ELM's
    authors (``sparse_elm_autoencoder.m``), followed to the letter: a fixed
    number of iterations from X = 0, gradient step 1/λ_max(AᵀA), soft
    threshold penalty/λ_max, and the extrapolation Y = X₊ + τ (X − X₊).

    Two departures from textbook FISTA, both theirs: the step is twice the
    1/(2λ_max) bound for this objective, and the extrapolation points back
    towards the previous iterate (τ (X − X₊), not τ (X₊ − X)). Together they
    converge, damped (textbook momentum with their step diverges); with no
    penalty the iterates reach the least-squares solution (tested).
    Only AᵀA and AᵀB are needed, so A may be tall (all training rows)."""
    AtA = A.T @ A
    AtB = A.T @ B
    largest = float(np.linalg.eigvalsh(AtA.astype(np.float64))[-1])
    step = 1.0 / largest
    threshold = penalty * step
    X = np.zeros((A.shape[1], B.shape[1]), dtype=A.dtype)
    Y = X.copy()
    t = 1.0
    for _ in range(iterations):
        C = Y - (2.0 * step) * (AtA @ Y) + (2.0 * step) * AtB
        X_next = np.sign(C) * np.maximum(np.abs(C) - threshold, 0.0)
        t_next = 0.5 + 0.5 * np.sqrt(1.0 + 4.0 * t * t)
        Y = X_next + ((t - 1.0) / t_next) * (X - X_next)
        X, t = X_next, t_next
    return X.astype(A.dtype, copy=False)


def row_minmax(Z: np.ndarray, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """Each row scaled to [low, high] in place (MATLAB's ``mapminmax`` of a
    samples × units matrix: per sample); constant rows become ``low``."""
    lo = Z.min(axis=1, keepdims=True)
    span = Z.max(axis=1, keepdims=True) - lo
    span[span == 0] = 1.0
    Z -= lo
    Z *= (high - low) / span
    Z += low
    return Z


class ColumnMinMax:
    """Per-column scaling to [0, 1] learned on training rows, applied to any
    (``mapminmax(T', 0, 1)`` and ``mapminmax('apply', …)`` in H-ELM's code)."""

    def __init__(self, Z: np.ndarray) -> None:
        self.low = Z.min(axis=0)
        span = Z.max(axis=0) - self.low
        span[span == 0] = 1.0
        self.scale = (1.0 / span).astype(Z.dtype)

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        Z -= self.low
        Z *= self.scale
        return Z


def with_bias_column(X: np.ndarray, value: float) -> np.ndarray:
    """[X, value]: H-ELM's inputs carry a constant 0.1 column as the bias."""
    out = np.empty((X.shape[0], X.shape[1] + 1), dtype=X.dtype)
    out[:, :-1] = X
    out[:, -1] = value
    return out
