"""KELM: kernel ELM with the Gaussian kernel of eq. (12), solved by Cholesky (eqs. 15-16).

Large training sets whose N×N kernel does not fit the memory budget are solved
approximately by Nyström centres and Falkon's preconditioned conjugate
gradients (``benchbase_elm.nystrom``); ``benchbase_elm.memory`` plans which.
"""

from __future__ import annotations

import math
import time

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

import benchbase
from benchbase.numerics.devices import (
    astype,
    empty_like_kind,
    matmul,
    numpy_dtype,
    on_device_of,
    to_device,
    to_numpy,
)
from benchbase.numerics.linalg import (
    BLOCK_ROWS,
    backend_modules,
    block_apply,
    for_inference,
    gaussian_from_squared_distances,
    gaussian_kernel,
    ridge_fit,
    squared_distances,
    squared_norms,
)
from benchbase.numerics.pages import without_huge_pages
from benchbase_elm import memory
from benchbase_elm._base import LabelTargetsMixin, candidate, check_positive, grid_values
from benchbase_elm.nystrom import FalkonSystem, distances_to_centers, falkon_fit, sample_centers

SOLVERS = ("auto", "exact", "nystrom")


def _device_name(device) -> str:
    return "cpu" if device is None else str(device)


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
        solver: "exact" (the N×N Cholesky solve), "nystrom" (M random
            training points as centres, Falkon's preconditioned conjugate
            gradients; ``benchbase_elm.nystrom`` derives it), or "auto": exact when
            its N×N matrix fits ``memory_budget`` and N is at most
            ``AUTO_EXACT_MAX_SAMPLES`` (20,000), else Nyström.
        n_centers: M for the Nyström solver: an integer in [1, N], or "auto"
            (min(N, max(2000, 80·√N)): 19,596 centres for N = 60,000).
        memory_budget: bytes a fit may plan to allocate, or None for half of
            the memory available when ``fit`` starts (MemAvailable on Linux).
            Estimated before any large allocation: a solver that cannot fit
            raises MemoryError naming the sizes; the Nyström solver keeps
            as many of K_nM's rows in memory as fit and recomputes the rest
            at every iteration.
        random_state: draws the Nyström centres (the exact solver is
            deterministic and ignores it). Fixed to 0 by default so a KELM fit
            is reproducible whichever solver "auto" picks.
        tol, max_iter: conjugate-gradient stopping rule (relative residual of
            the preconditioned system, iteration cap) for the Nyström solver.
        device: "cpu" (default: NumPy/SciPy), "cuda" (torch on the GPU: kernel,
            Cholesky or Nyström system, and prediction; ``memory_budget`` then
            defaults to half the GPU's free memory) or "auto" (CUDA when torch
            sees one); ``fit_info_["device"]`` says where the fit ran. The
            Nyström solver's conjugate gradients keep their M×k vectors on the
            host. Fitted arrays are NumPy arrays either way.

    Equivalent to ``sklearn.kernel_ridge.KernelRidge(kernel="rbf",
    alpha=1/C, gamma=1/(2 γ²))`` on one-hot targets (exact solver).

    Fitted attributes besides the coefficients: ``solver_`` ("exact" or
    "nystrom"), ``n_centers_`` (the kernel expansion's size: N for exact),
    ``n_iter_`` (CG iterations; 1 for the direct exact solve), ``fit_info_``
    (a dict of the solver's figures for result tables).
    """

    def __init__(self, C=1.0, kernel_width=1.0, dtype="float32", solver="auto",
                 n_centers="auto", memory_budget=None, random_state=0, tol=1e-4,
                 max_iter=200, device="cpu"):
        self.C = C
        self.kernel_width = kernel_width
        self.dtype = dtype
        self.solver = solver
        self.n_centers = n_centers
        self.memory_budget = memory_budget
        self.random_state = random_state
        self.tol = tol
        self.max_iter = max_iter
        self.device = device

    def _check_solver_params(self, n_samples: int) -> None:
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {self.solver!r}")
        if self.n_centers != "auto":
            check_positive("n_centers", self.n_centers, integer=True)
            if self.n_centers > n_samples:
                raise ValueError(f"n_centers must be at most the number of training "
                                 f"samples ({n_samples}), got {self.n_centers!r}")
        if self.memory_budget is not None:
            check_positive("memory_budget", self.memory_budget)
        check_positive("tol", self.tol)
        check_positive("max_iter", self.max_iter, integer=True)

    def _plan(self, n_samples: int, n_outputs: int, dtype, device) -> memory.Plan:
        """Choose the solver and its sizes from the memory budget, before allocating."""
        self._check_solver_params(n_samples)
        return memory.plan_fit(n_samples, n_outputs, dtype, solver=self.solver,
                               n_centers=self.n_centers,
                               budget=memory.memory_budget(self.memory_budget, device))

    def fit(self, X, y):
        X, targets = self._validate_fit(X, y)
        check_positive("C", self.C)
        check_positive("kernel_width", self.kernel_width)
        device = self._resolve_device()
        plan = self._plan(X.shape[0], targets.shape[1], X.dtype, device)
        self.solver_, self.n_centers_ = plan.solver, plan.n_centers
        info = {**plan.fit_info(), "device": _device_name(device)}
        started = time.perf_counter()
        if self.solver_ == "exact":
            seconds = self._fit_exact(X, targets, plan.memory_budget, device)
            self.n_iter_ = 1  # one direct solve
            info.update(kernel_passes=1)
        else:
            centers, alpha, report, system = falkon_fit(
                to_device(X, device), targets, self.kernel_width, self.C, plan.n_centers,
                check_random_state(self.random_state), kept_rows=plan.kept_rows,
                tol=self.tol, max_iter=self.max_iter)
            # In the data dtype, like the exact solver's (prediction is one GEMM).
            self.dual_coef_ = alpha.astype(X.dtype)
            self.X_fit_, self.solve_dtype_ = to_numpy(centers), X.dtype
            self.n_iter_ = report.iterations
            seconds = dict(system.seconds)
            # kernel_kept: the share of K_nM's rows kept (1.0 all, 0.0 none).
            info.update(kernel_kept=round(plan.kept_rows / X.shape[0], 3),
                        cg_iterations=report.iterations,
                        cg_residual=report.residual, kernel_passes=system.passes,
                        kernel_products=system.products)
        # Where a fit's time went: iterations, passes over the kernel matrix and
        # seconds per stage, the same keys for both solvers.
        info.update(iterations=self.n_iter_,
                    seconds={stage: round(t, 3) for stage, t in seconds.items()},
                    fit_seconds=round(time.perf_counter() - started, 3))
        self.fit_info_ = info
        return self

    def _fit_exact(self, X, targets, budget, device) -> dict:
        """Fit the exact solver; return its seconds per stage ("kernel": the
        N×N kernel matrix, "solve": its factorization and solves)."""
        X_here, targets = to_device(X, device), to_device(targets, device)
        started = time.perf_counter()
        building = []  # seconds of each kernel matrix built (a float64 retry: two)

        def system(dtype):
            needed = memory.planned_bytes(X.shape[0], targets.shape[1], dtype)
            if needed > budget:  # the float64 retry of an ill-conditioned float32 system
                raise MemoryError(
                    f"KELM: the float32 system was not positive definite and its "
                    f"float64 retry needs {memory.gib(needed)}, over the memory budget of "
                    f"{memory.gib(budget)}; use a smaller C or solver='nystrom'")
            begun = time.perf_counter()
            Xd = astype(X_here, dtype)
            kernel = gaussian_kernel(Xd, Xd, self.kernel_width)
            building.append(time.perf_counter() - begun)
            return kernel, targets

        dual_coef, self.solve_dtype_ = ridge_fit(system, self.C, X.dtype)
        self.X_fit_ = X
        self.dual_coef_ = to_numpy(dual_coef)  # float64 when the solve was promoted
        total = time.perf_counter() - started
        return {"kernel": sum(building), "solve": total - sum(building)}

    def _decision(self, X):
        """Scores in the dual coefficients' dtype, computed as ``for_inference`` says."""
        X = to_device(X, self._resolve_device())
        X, X_fit, dual_coef = for_inference(X, *(on_device_of(X, a) for a in (
            self.X_fit_, self.dual_coef_)))
        norms = squared_norms(X_fit)
        # Half the rows: a float64 kernel block takes the bytes of a float32 one.
        scores = block_apply(
            lambda block: matmul(gaussian_kernel(block, X_fit, self.kernel_width,
                                                 B_sq_norms=norms), dual_coef),
            X, block_rows=BLOCK_ROWS // 2)
        return astype(to_numpy(scores), self.dual_coef_.dtype)


def score_kelm_grid(*, X_fit, y_fit, X_val, y_val, grid, fixed_params, random_state):
    """KELM's ``benchbase.GridScorer``: every (C, kernel_width), sharing the costly parts.

    Exact solver: the distances (the GEMM) are computed once for all widths;
    each width exponentiates them once for all C; each C costs one Cholesky
    solve. Nyström solver (chosen as ``fit`` would choose it): the n×M (when
    memory allows) and validation×M distances are computed once; each width
    builds K_nM and the centres' Cholesky factor once; each C costs the
    preconditioner's Cholesky and the conjugate gradients. The solver is the
    one ``fit`` would pick for these data (so selection scores the models the
    harness would fit); when the shared matrices do not fit the memory budget,
    each point is fitted on its own (each fit plans its own memory). Returns
    None only for grids over other parameters.
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
    X_val = np.asarray(X_val, dtype=X.dtype)
    device = model._resolve_device()
    model._check_solver_params(X.shape[0])
    plan = memory.plan_grid_scoring(
        X.shape[0], X_val.shape[0], targets.shape[1], X.dtype, solver=model.solver,
        n_centers=model.n_centers, budget=memory.memory_budget(model.memory_budget, device),
        n_widths=len(widths))
    if plan is None:
        return _select_by_fitting(fixed_params, X, y_fit, X_val, y_val, grid, widths, Cs)
    if plan.solver == "exact":
        return _select_exact(model, *(to_device(a, device) for a in (X, targets, X_val)),
                             y_val, grid, widths, Cs)
    seed = model.random_state if random_state is None else random_state
    return _select_nystrom(model, *(to_device(a, device) for a in (X, targets, X_val)),
                           y_val, grid, widths, Cs,
                           plan.n_centers, check_random_state(seed), plan.keep_distances)


def _select_by_fitting(fixed_params, X, y, X_val, y_val, grid, widths, Cs):
    """What the harness does without a grid scorer: one fit per grid point."""
    scored = []
    for width in widths:
        for C in Cs:
            model = KELMClassifier(**{**fixed_params, "C": C, "kernel_width": width})
            scored.append((candidate(grid, C=C, kernel_width=width),
                           model.fit(X, y).predict(X_val)))
    return scored


def _select_exact(model, X, targets, X_val, y_val, grid, widths, Cs):
    distances = squared_distances(X, X)
    val_distances = squared_distances(X_val, X)
    scored = []
    for width in widths:
        kernel = gaussian_from_squared_distances(distances, width)
        val_kernel = gaussian_from_squared_distances(val_distances, width)
        for C in Cs:
            # A copy: the solve factors it in place and the next C needs it.
            dual_coef, _ = ridge_fit(
                lambda dtype, kernel=kernel: (astype(kernel, dtype, copy=True),
                                              astype(targets, dtype)),
                C, numpy_dtype(X))
            scores = matmul(val_kernel, dual_coef)  # float64 if promoted, as fit keeps it
            scored.append((candidate(grid, C=C, kernel_width=width), model._labels(scores)))
    return scored


def _select_nystrom(model, X, targets, X_val, y_val, grid, widths, Cs, n_centers,
                    random_state, keep_distances):
    """Arrays on the fit's device: NumPy arrays, or torch tensors (a GPU)."""
    centers = X[sample_centers(X.shape[0], n_centers, random_state)]
    distances = distances_to_centers(X, centers) if keep_distances else None
    val_distances = distances_to_centers(X_val, centers)
    with without_huge_pages():  # streamed, as K_nM is (benchbase.numerics.pages)
        kernel = empty_like_kind(distances, distances.shape) if keep_distances else None
        val_kernel = empty_like_kind(val_distances, val_distances.shape)
    scored = []
    for width in widths:
        if keep_distances:
            system = FalkonSystem(X, centers, width, kernel=gaussian_from_squared_distances(
                distances, width, out=kernel))
        else:
            system = FalkonSystem(X, centers, width)  # builds K_nM itself
        gaussian_from_squared_distances(val_distances, width, out=val_kernel)
        for C in Cs:
            alpha, _ = system.solve(targets, C, tol=model.tol, max_iter=model.max_iter)
            scores = to_numpy(val_kernel @ on_device_of(val_kernel,
                                                        alpha.astype(numpy_dtype(X))))
            scored.append((candidate(grid, C=C, kernel_width=width), model._labels(scores)))
        del system  # free its M×M factors before the next width builds its own
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
            score_grid=score_kelm_grid,
            # The exact solver is deterministic; the Nyström one draws its
            # centres from random_state, which defaults to 0 (reproducible).
            # Marking KELM randomized would rerun identical exact fits per seed.
            randomized=False,
            description="Kernel ELM: Gaussian kernel ridge, Cholesky solve "
                        "(Nyström + Falkon CG when N×N does not fit memory)",
            # Its Cholesky factorizations may run in torch: import it once.
            preload=backend_modules(),
        )
    ]
