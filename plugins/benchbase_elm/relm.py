"""RELM: ELM with ridge output weights, beta = (I/C + HᵀH)⁻¹ HᵀT."""

from __future__ import annotations

import benchbase
from benchbase.numerics.devices import (
    astype,
    empty_like_kind,
    matmul,
    numpy_dtype,
    to_device,
    to_numpy,
)
from benchbase.numerics.linalg import BLOCK_ROWS, backend_modules, gram_accumulate, ridge_fit
from benchbase_elm._base import (
    RandomHiddenLayerClassifier,
    candidate,
    check_positive,
    grid_values,
)

SOLVERS = ("auto", "primal", "dual")


class RELMClassifier(RandomHiddenLayerClassifier):
    """Regularized ELM.

    Parameters:
        n_hidden: hidden neurons L.
        C: ridge trade-off (larger = less regularization).
        solver: "primal" solves the L×L system (I/C + HᵀH) beta = HᵀT with HᵀH
            accumulated over row blocks by symmetric rank-k updates; "dual"
            solves the N×N system (I/C + HHᵀ) alpha = T and sets
            beta = Hᵀ alpha; "auto" picks the smaller system.
        dtype: "float32" (default) or "float64". A system that float32
            Cholesky cannot factor is solved in float64 (``solve_dtype_`` says
            which ran). A float32 system that factors but is very
            ill-conditioned (large C) can still lose accuracy; selection on
            validation data sees that, and ``dtype="float64"`` avoids it.
        device: "cpu" (default: NumPy/SciPy), "cuda" (torch on the GPU) or
            "auto" (CUDA when torch sees one). Fitted arrays are NumPy arrays
            either way.
        random_state: seeds the input weights and biases.
    """

    def __init__(self, n_hidden=1000, C=1.0, solver="auto", dtype="float32",
                 device="cpu", random_state=None):
        self.n_hidden = n_hidden
        self.C = C
        self.solver = solver
        self.dtype = dtype
        self.device = device
        self.random_state = random_state

    def _check_params(self, C, n_samples, n_hidden):
        check_positive("C", C)
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {self.solver!r}")
        if self.solver == "auto":
            return "primal" if n_samples >= n_hidden else "dual"
        return self.solver

    def fit(self, X, y):
        X, targets = self._validate_fit(X, y)
        self.solver_ = self._check_params(self.C, X.shape[0], self.n_hidden)
        device = self._resolve_device()
        self._init_hidden(X.shape[1], X.dtype)
        X, targets = to_device(X, device), to_device(targets, device)
        if self.solver_ == "primal":
            gram, rhs = self._primal_system(X, targets)
            coef, self.solve_dtype_ = _solve_primal(gram, rhs, self.C)
        else:
            H = self._hidden(X)
            coef, self.solve_dtype_ = _solve_dual(H, H @ H.T, targets, self.C)
        # float64 when the solve was promoted: its precision is needed
        self.coef_ = to_numpy(coef)
        return self

    def _primal_system(self, X, targets, n_hidden=None):
        """HᵀH and HᵀT over blocks of rows, for the first ``n_hidden`` units."""
        n_hidden = n_hidden or self.input_weights_.shape[1]
        gram = empty_like_kind(X, (n_hidden, n_hidden), zeros=True, order="F")
        rhs = empty_like_kind(X, (n_hidden, targets.shape[1]), zeros=True)
        for start in range(0, X.shape[0], BLOCK_ROWS):
            H = self._hidden(X[start:start + BLOCK_ROWS])[:, :n_hidden]
            gram_accumulate(gram, H)
            rhs += H.T @ targets[start:start + BLOCK_ROWS]
        return gram, rhs  # its lower triangle, all the solver reads


def _solve_primal(gram, rhs, C):
    # Copies: the solve factors its matrix in place, and selection reuses gram.
    return ridge_fit(lambda dtype: (astype(gram, dtype, copy=True), astype(rhs, dtype)),
                     C, numpy_dtype(gram))


def _solve_dual(H, kernel, targets, C):
    alpha, dtype = ridge_fit(
        lambda dtype: (astype(kernel, dtype, copy=True), astype(targets, dtype)),
        C, numpy_dtype(kernel))
    return astype(H.T, dtype) @ alpha, dtype


def score_relm_grid(*, X_fit, y_fit, X_val, y_val, grid, fixed_params, random_state):
    """RELM's ``benchbase.GridScorer``: every (n_hidden, C) from one layer of the largest size.

    Layers are nested (see ``random_hidden_layer``): a size-L RELM's Gram
    matrix HᵀH is the leading L×L block of the largest layer's, and its HHᵀ
    grows by the added units' outer products. One Gram matrix serves every
    size, and one factorization is made per (size, C).
    """
    if set(grid) - {"n_hidden", "C"}:
        return None
    model = RELMClassifier(**{**fixed_params, "random_state": random_state})
    sizes = sorted(grid_values(grid, "n_hidden", model.n_hidden))
    Cs = grid_values(grid, "C", model.C)
    n_samples = len(y_fit)
    solvers = {size: model._check_params(C, n_samples, size)
               for size in sizes for C in Cs}  # validates every C too
    X, targets, H_val = model._selection_layers(X_fit, y_fit, X_val, sizes)
    gram = rhs = H = outer = None
    primal_sizes = [size for size in sizes if solvers[size] == "primal"]
    if primal_sizes:
        gram, rhs = model._primal_system(X, targets, max(primal_sizes))
    if "dual" in solvers.values():
        H = model._hidden(X)
        outer = empty_like_kind(X, (n_samples, n_samples), zeros=True)
    scored, done = [], 0
    for size in sizes:
        if solvers[size] == "dual":  # add the units done..size to HHᵀ
            outer += H[:, done:size] @ H[:, done:size].T
            done = size
        for C in Cs:
            if solvers[size] == "primal":
                coef, _ = _solve_primal(gram[:size, :size], rhs[:size], C)
            else:
                coef, _ = _solve_dual(H[:, :size], outer, targets, C)
            scores = matmul(H_val[:, :size], coef)  # float64 if promoted, as fit keeps it
            scored.append((candidate(grid, n_hidden=size, C=C), model._labels(scores)))
    return scored


def _search_space(n_samples: int, n_features: int) -> dict:
    # Beyond the sample count a wider layer mostly costs time (the dual system
    # stays N×N), so sizes stop there; 10,000 is reached on full MNIST only
    # (its 10,000² Gram takes 0.4 GB in float32).
    sizes = [500, 1000, 2000, 4000, 10000]
    return {
        "n_hidden": [L for L in sizes if L <= n_samples] or [sizes[0]],
        # Wide layers fit best with strong ridges: on USPS and MNIST's paper
        # subset, validation chose C = 0.1, the edge of a 0.1..1000 grid.
        "C": [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0],
    }


@benchbase.hookimpl
def benchbase_register_algorithms():
    return [
        benchbase.AlgorithmSpec(
            name="RELM",
            family="ELM",
            factory=RELMClassifier,
            search_space=_search_space,
            score_grid=score_relm_grid,
            # Scoring every hidden size costs about one fit of the largest.
            halving=False,
            description="Regularized ELM: ridge output weights (primal or dual form)",
            # Its Cholesky factorizations may run in torch: import it once.
            preload=backend_modules(),
        )
    ]
