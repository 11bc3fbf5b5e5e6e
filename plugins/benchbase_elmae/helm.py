"""H-ELM (Tang, Deng, Huang, "Extreme Learning Machine for Multilayer
Perceptron", IEEE TNNLS 27(4), 2016), as the authors' MATLAB code runs it
(github.com/JiexiongTang/helm, ``helm_train.m``; docs/elm-autoencoders.md
lists every choice and the ambiguities resolved).

Per sample, the pixels are z-scored. Two ℓ1-sparse ELM autoencoders follow:
for layer i, A = H bᵢ with random bᵢ, each row scaled to [−1, 1], the sparse
weights βᵢ = (argmin_x ‖A x − H‖² + λ‖x‖₁)ᵀ by FISTA, and the layer's output
H βᵢ scaled per unit to [0, 1] on the training rows. Then a
random orthogonal enhancement layer tanh(s · H b₃ / max(H b₃)), and ridge
output weights on targets ±1. Every input of a layer carries a constant 0.1
column as its bias.
"""

from __future__ import annotations

import functools
import math
import time

import numpy as np
from sklearn.utils import check_random_state

import benchbase
from benchbase.numerics.linalg import BLOCK_ROWS, block_apply, for_inference
from benchbase_elm import candidate, check_positive, memory_budget
from benchbase_elmae._base import ELMStackClassifier
from benchbase_elmae._layers import (
    ColumnMinMax,
    RidgeSystem,
    fista_lasso,
    orthogonal_random,
    row_minmax,
    with_bias_column,
)

#: The constant column H-ELM appends to every layer's input as its bias.
BIAS_INPUT = 0.1
#: The output layer's Gram matrix is summed and factored in float64: with the
#: published ridge (a penalty of 2⁻³⁰) float32 rounding of TᵀT, not the ridge,
#: would regularize (the authors' MATLAB computes in double).
GRAM_DTYPE = np.float64


def standardize_rows(X: np.ndarray) -> np.ndarray:
    """Each sample to mean 0, standard deviation 1 over its features (MATLAB's
    ``zscore(X')'``: the n − 1 standard deviation); a constant sample to 0."""
    mean = X.mean(axis=1, keepdims=True)
    std = X.std(axis=1, ddof=1, keepdims=True) if X.shape[1] > 1 else np.ones_like(mean)
    std[std == 0] = 1.0
    return (X - mean) / std


class HELMClassifier(ELMStackClassifier):
    """Hierarchical ELM.

    Parameters:
        hidden: widths of the sparse autoencoder layers (published: 700, 700).
        n_enhance: width of the random enhancement layer, or "auto"
            (``enhancement_width``: the published 12,000 from 12,000 training
            samples on, else the samples rounded down to thousands).
        s: the enhancement layer's scale: tanh(s · z / max z) (published 0.8).
        C: ridge trade-off of the output weights, (TᵀT + I/C)⁻¹ TᵀY; the
            published penalty 2⁻³⁰ is C = 2³⁰.
        l1: the autoencoders' ℓ1 penalty λ (published 1e-3).
        fista_iterations: FISTA iterations per autoencoder (published 50).
        standardize: z-score each sample over its features first (the
            authors' preprocessing of images; it erases data with very few
            features, such as 2-D points, so it can be turned off).
        dtype, random_state: as for the other ELMs.
    """

    def __init__(self, hidden=(700, 700), n_enhance="auto", s=0.8, C=2.0**30, l1=1e-3,
                 fista_iterations=50, standardize=True, dtype="float32",
                 memory_budget=None, random_state=None):
        self.hidden = hidden
        self.n_enhance = n_enhance
        self.s = s
        self.C = C
        self.l1 = l1
        self.fista_iterations = fista_iterations
        self.standardize = standardize
        self.dtype = dtype
        self.memory_budget = memory_budget
        self.random_state = random_state

    def _check_params(self) -> None:
        self._check_widths("hidden", self.hidden)
        if self.n_enhance != "auto":
            check_positive("n_enhance", self.n_enhance, integer=True)
        for name in ("s", "C", "l1"):
            check_positive(name, getattr(self, name))
        check_positive("fista_iterations", self.fista_iterations, integer=True)

    # --- training ---------------------------------------------------------------

    def _fit_features(self, X: np.ndarray) -> np.ndarray:
        """Train the autoencoders and draw the enhancement layer; return the
        inputs of the enhancement layer for X (with the bias column)."""
        rng = check_random_state(self.random_state)
        H = with_bias_column(self._standardized(X), BIAS_INPUT)
        self.encoders_, self.scalers_ = [], []
        for width in self.hidden:
            draws = (2.0 * rng.uniform(size=(H.shape[1], width)) - 1.0).astype(H.dtype)
            A = row_minmax(H @ draws)
            beta = fista_lasso(A, H, self.l1, self.fista_iterations).T  # (inputs, width)
            del A
            T = H @ beta
            scaler = ColumnMinMax(T)
            self.encoders_.append(beta)
            self.scalers_.append(scaler)
            H = with_bias_column(scaler(T), BIAS_INPUT)
        self.enhancement_ = orthogonal_random(H.shape[1], self._width(X.shape[0]), rng,
                                              H.dtype)
        return H

    def _enhanced(self, H: np.ndarray, scale: float) -> np.ndarray:
        Z = H @ self.enhancement_
        Z *= scale
        return np.tanh(Z, out=Z)

    def _enhancement_scale(self, H: np.ndarray, s: float) -> float:
        """s / max(H b₃) over the training rows (``l3`` in the authors' code)."""
        top = max(float((H[i:i + BLOCK_ROWS] @ self.enhancement_).max())
                  for i in range(0, H.shape[0], BLOCK_ROWS))
        return s / top

    def fit(self, X, y):
        self._check_params()
        X, targets = self._validate_fit(X, y)
        self.n_enhance_ = self._width(X.shape[0])
        self._check_memory(X.shape[0], self.n_enhance_)
        started = time.perf_counter()
        H = self._fit_features(X)
        self.scale_ = self._enhancement_scale(H, self.s)
        layers = time.perf_counter()
        system = RidgeSystem(functools.partial(self._enhanced, scale=self.scale_), H,
                             self._signed(targets), self.n_enhance_, GRAM_DTYPE)
        gram = time.perf_counter()
        self.coef_ = system.solve(self.C)
        self.solve_dtype_ = system.dtype
        self.fit_info_ = {
            "widths": [*map(int, self.hidden), self.n_enhance_],
            "solve_dtype": str(np.dtype(self.solve_dtype_)),
            "seconds": {"sparse_autoencoders": round(layers - started, 3),
                        "gram": round(gram - layers, 3),
                        "solve": round(time.perf_counter() - gram, 3)}}
        return self

    def _width(self, n_samples: int) -> int:
        return enhancement_width(n_samples) if self.n_enhance == "auto" else self.n_enhance

    # --- inference --------------------------------------------------------------

    def _standardized(self, X: np.ndarray) -> np.ndarray:
        return standardize_rows(X) if self.standardize else X

    def _top_features(self, X: np.ndarray) -> np.ndarray:
        H = with_bias_column(self._standardized(X), BIAS_INPUT)
        for beta, scaler in zip(self.encoders_, self.scalers_, strict=True):
            H = with_bias_column(scaler(H @ beta), BIAS_INPUT)
        return H

    def _decision(self, X):
        X, = for_inference(X)
        H = self._top_features(X)
        enhanced = functools.partial(self._enhanced, scale=self.scale_)
        return block_apply(functools.partial(_scores, enhanced, self.coef_), H
                           ).astype(self.coef_.dtype)

    # --- memory -----------------------------------------------------------------

    def _check_memory(self, n_samples: int, width: int) -> None:
        """Refuse, before allocating, a fit whose Gram matrix (and its float64
        retry) and layer activations exceed the memory budget."""
        itemsize = np.dtype(self.dtype).itemsize
        widest = max((*self.hidden, 1)) + 1
        planned = (2 * width * width * 8  # the float64 Gram and the copy factored
                   + 3 * n_samples * widest * itemsize  # a layer's input, A and T
                   + BLOCK_ROWS * width * 8)  # one block of the enhancement layer
        budget = memory_budget(self.memory_budget)
        if planned > budget:
            raise MemoryError(
                f"H-ELM with n_enhance={width} on {n_samples} samples plans "
                f"{planned / 2**30:.2f} GiB, over the memory budget of "
                f"{budget / 2**30:.2f} GiB; lower n_enhance or raise memory_budget")


def score_helm_grid(*, X_fit, y_fit, X_val, y_val, grid, fixed_params, random_state):
    """H-ELM's grid scorer: the autoencoders once (they depend on no searched
    parameter), one Gram matrix per scale s, one factorization per C."""
    if set(grid) - {"s", "C"}:
        return None
    model = HELMClassifier(**{**fixed_params, "random_state": random_state})
    model._check_params()
    X, targets = model._validate_fit(X_fit, y_fit)
    width = model._width(X.shape[0])
    model._check_memory(X.shape[0], width)
    H = model._fit_features(X)
    H_val = model._top_features(np.asarray(X_val, dtype=X.dtype))
    signed = model._signed(targets)
    scored = []
    for s in grid.get("s", [model.s]):
        check_positive("s", s)
        enhanced = functools.partial(model._enhanced, scale=model._enhancement_scale(H, s))
        system = RidgeSystem(enhanced, H, signed, width, GRAM_DTYPE)
        for C in grid.get("C", [model.C]):
            check_positive("C", C)
            coef = system.solve(C)
            scores = block_apply(functools.partial(_scores, enhanced, coef), H_val)
            scored.append((candidate(grid, s=s, C=C), model._labels(scores)))
        del system
    return scored


def _scores(enhanced, coef, block):
    return enhanced(block) @ coef.astype(block.dtype)


def _search_space(n_samples: int, n_features: int) -> dict:
    # The published C (2³⁰) and s (0.8) are in the grid; a wider ridge range
    # matters on small training sets, where 12,000 enhancement nodes outnumber
    # the samples.
    return {"s": [0.8, 1.0], "C": [2.0**10, 2.0**20, 2.0**30]}


def enhancement_width(n_samples: int) -> int:
    """n_enhance="auto": the published 12,000 from 12,000 training samples on
    (full MNIST's 48,000 fit and 60,000 final rows), else the samples rounded
    down to thousands, at least 1,000 (a layer wider than the samples only
    adds cost to the ridge solve)."""
    return int(min(12000, max(1000, 1000 * math.floor(n_samples / 1000))))


@benchbase.hookimpl
def benchbase_register_algorithms():
    return [
        benchbase.AlgorithmSpec(
            name="H-ELM",
            family="ELM",
            factory=HELMClassifier,
            search_space=_search_space,
            score_grid=score_helm_grid,
            # The scorer shares everything but one Gram per s: about one fit.
            halving=False,
            description="Hierarchical ELM (Tang et al. 2016): l1-sparse ELM autoencoders "
                        "by FISTA, random enhancement layer, ridge output",
        )
    ]
