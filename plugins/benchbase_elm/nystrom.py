"""Nyström kernel ridge regression solved by Falkon's preconditioned conjugate gradients.

The exact kernel ridge (KELM) solves (Ω + I/C) β = Y with the n×n kernel Ω:
n² numbers, 14.4 GB in float32 for full MNIST. Falkon (Rudi, Carratino,
Rosasco, NeurIPS 2017) restricts the solution to M ≪ n centres c_j drawn
uniformly from the training points, f(x) = Σ_j K(x, c_j) α_j, and minimizes
the same objective over α:

    ‖K_nM α − Y‖² + (1/C) αᵀ K_MM α,

whose normal equations are

    H α = K_nMᵀ Y,   H = K_nMᵀ K_nM + K_MM / C.                        (1)

With M = n (every point a centre) and K invertible, (1) is K (K + I/C) α = K Y,
i.e. α is exactly KELM's β: the restriction loses nothing but the centres.

Preconditioner (in these units). The centres are a uniform subsample, so
K_nMᵀ K_nM = Σ_i K(c, x_i) K(x_i, c) ≈ (n/M) Σ_j K(c, c_j) K(c_j, c) = (n/M) K_MM².
Hence H ≈ (n/M) K_MM² + K_MM / C. Write K_MM = Tᵀ T (T upper triangular; here
T = Lᵀ with L the lower Cholesky factor) and

    A = chol((n/M) T Tᵀ + I/C)   (upper, AᵀA = (n/M) T Tᵀ + I/C).

Then Tᵀ AᵀA T = (n/M) TᵀT TᵀT + TᵀT / C = (n/M) K_MM² + K_MM / C ≈ H, so with
B = T⁻¹ A⁻¹ the matrix Bᵀ H B ≈ I. Conjugate gradients run on

    W u = Bᵀ K_nMᵀ Y,   W = Bᵀ H B,   α = B u.                          (2)

One product W u is, with z = A⁻¹ u (and K_MM B u = TᵀT T⁻¹ A⁻¹ u = Tᵀ z):

    W u = A⁻ᵀ ( T⁻ᵀ K_nMᵀ K_nM T⁻¹ z + z / C ):

two products with K_nM and four triangular solves. This is Falkon's
preconditioner with its λ = 1/(nC). With M = n the approximation is exact,
W = I, and CG converges in one step.

Numerics. K_MM is factored with a small jitter δ = ε·M on its diagonal
(ε = 1e-6 in float32, 1e-13 in float64, as Falkon does; the Gaussian K_MM is
numerically singular when centres nearly coincide): the regularizer is then
(K_MM + δI)/C, an extra ridge of δ/C on α. The jitter also bounds the
condition numbers: K_MM + δI has eigenvalues in [δ, M + δ] and
(n/M) LᵀL + I/C in [(n/M)δ, n + 1/C], so both stay below about M/δ = 1/ε
(10⁶ in float32, where rounding is 6·10⁻⁸): that keeps float32 factorable.
The M×M factors are in the data's dtype: on full MNIST (48,000 fit /
12,000 validation, M = 10,000, C = 100, γ = 5.6) float32 factors reached the
same validation accuracy as float64 ones (98.23 % vs 98.27 %) in fewer CG
iterations (16 vs 23), and float32 Cholesky runs about 3× faster than
float64 here. K_nM and its products, the bulk of memory and time, are in the
data's dtype; CG's own vectors are float64, cast to the data's dtype once on
the way into a product W u and once on the way out.

Streaming. A CG iteration is dominated by K_nMᵀ (K_nM V), two products that
each read all of K_nM (n·M numbers, 4.7 GB on full MNIST). Both are done row
block by row block, each block's two products while it is still in cache, so
K_nM streams from memory once per iteration whether it is kept or recomputed
(``kernel_products``); ``FalkonSystem.passes`` counts those passes. Where
memory holds only part of K_nM, its first rows are kept and the rest
recomputed at each pass: the cost grows with the recomputed share, not all
at once. BLAS runs
such thin products (a column per class) well below its GEMM rate, so with
Numba installed a kept K_nM goes through a kernel that does both products a
few rows at a time in registers (``benchbase_elm._streaming``);
``FalkonSystem.products`` names the path that ran. How much
memory all this takes is planned before anything is allocated, in
``benchbase_elm.memory``.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import math
import time
import warnings

import numpy as np
import scipy.linalg
from sklearn.exceptions import ConvergenceWarning

from benchbase.numerics.devices import (
    astype,
    empty_like_kind,
    is_torch,
    numpy_dtype,
    on_device_of,
    to_numpy,
    torch_mod,
)
from benchbase.numerics.linalg import (
    BLOCK_ROWS,
    cholesky_lower,
    gaussian_kernel,
    squared_distances,
    squared_norms,
)
from benchbase.numerics.pages import without_huge_pages
from benchbase.timing import blas_threads
from benchbase_elm import _streaming

#: Relative jitter added to K_MM's diagonal, times M, per dtype.
JITTER = {np.dtype(np.float64): 1e-13, np.dtype(np.float32): 1e-6}
#: Bytes of a kept K_nM's row block in ``kernel_products`` (at least
#: ``STREAM_BLOCK_MIN_ROWS`` rows): small enough to stay in a core's cache
#: between the block's two products, large enough for BLAS to run the thin
#: products well (docs/speed.md has the sizes tried).
STREAM_BLOCK_BYTES = 1 << 18
STREAM_BLOCK_MIN_ROWS = 16


def sample_centers(n_samples: int, n_centers: int, random_state) -> np.ndarray:
    """Sorted indices of ``n_centers`` distinct training points, uniformly at random."""
    if n_centers == n_samples:
        return np.arange(n_samples)
    return np.sort(random_state.choice(n_samples, size=n_centers, replace=False))


@dataclasses.dataclass
class CGResult:
    """Outcome of a (preconditioned) conjugate-gradient solve.

    ``residual`` is the largest relative residual ‖b − W u‖ / ‖b‖ over the
    right-hand sides, from CG's recurrence, in the system CG actually solved.
    """

    solution: np.ndarray
    iterations: int
    residual: float
    converged: bool
    seconds: float = 0.0


def conjugate_gradients(apply, b: np.ndarray, *, tol: float, max_iter: int) -> CGResult:
    """Solve W u = b for SPD W (given as ``apply(V) = W V``), one CG per column of b.

    The columns run in lockstep so each iteration is one product with a block
    of vectors (a GEMM, not k GEMVs); a column stops moving once its relative
    residual is below ``tol``.
    """
    started = time.perf_counter()
    b = np.asarray(b, dtype=np.float64)
    b_norms = np.linalg.norm(b, axis=0)
    b_norms[b_norms == 0] = 1.0  # a zero column: u = 0 solves it at once
    u = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = np.einsum("ij,ij->j", r, r)
    residual = float(np.max(np.sqrt(rr) / b_norms))
    iterations = 0
    while residual > tol and iterations < max_iter:
        active = np.sqrt(rr) / b_norms > tol
        Wp = apply(p)
        pWp = np.einsum("ij,ij->j", p, Wp)
        step = np.where(active, rr / np.where(active, pWp, 1.0), 0.0)
        u += step * p
        r -= step * Wp
        rr_new = np.einsum("ij,ij->j", r, r)
        p = r + np.where(active, rr_new / np.where(active, rr, 1.0), 0.0) * p
        rr = rr_new
        iterations += 1
        residual = float(np.max(np.sqrt(rr) / b_norms))
    return CGResult(u, iterations, residual, residual <= tol,
                    time.perf_counter() - started)


class FalkonSystem:
    """What (1) needs that does not depend on C: K_nM and the Cholesky factor of K_MM.

    One instance serves every C for one kernel width (model selection builds
    one per width and calls ``solve`` per C).

    X may be a NumPy array or a torch tensor (a GPU): K_nM, the M×M factors and
    the products then live and run where X is, and only CG's M×k vectors come
    to the host (NumPy) once per iteration.

    Parameters:
        X: training points (n×d), in the dtype of the kernel products.
        centers: the M centres (M×d), normally rows of X.
        kernel_width: γ of K(a, b) = exp(−‖a − b‖² / (2 γ²)).
        kept_rows: how many of K_nM's first rows to store (M numbers each;
            None: all of them); the others are recomputed in row blocks at
            every pass (slower, memory O(block · M)).
        kernel: a precomputed K_nM to use (all rows kept).
        several_C: keep LᵀL so ``solve`` can run for several C (each solve
            factors the preconditioner in a copy of ``factors``); otherwise
            the first solve factors it in ``factors`` itself (one M×M matrix
            in all) and a second solve raises.

    The M×M factors share one array, ``factors`` (module docstring): its
    strict lower triangle holds L with each column divided by its diagonal
    (``L_diag``), its upper triangle and diagonal hold LᵀL, which a solve
    replaces by the preconditioner's factor.
    """

    def __init__(self, X: np.ndarray, centers: np.ndarray, kernel_width: float, *,
                 kept_rows: int | None = None, kernel: np.ndarray | None = None,
                 several_C: bool = True):
        self.X = X
        self.dtype = numpy_dtype(X)
        self.centers = (astype(centers, self.dtype) if is_torch(X)
                        else np.asarray(centers, dtype=self.dtype))
        self.kernel_width = kernel_width
        self.several_C = several_C
        #: Passes over K_nM so far (building it counts as one).
        self.passes = 0
        #: Wall seconds per stage: "kernel" (building K_nM), "factor" (K_MM's
        #: factors), then per solve "preconditioner" and "cg" (summed over C).
        self.seconds = collections.Counter()
        self._centers_sq_norms = squared_norms(self.centers)
        n = X.shape[0]
        if kernel is not None:
            kept_rows = kernel.shape[0]
        elif kept_rows is None:
            kept_rows = n
        if not 0 <= kept_rows <= n:
            raise ValueError(f"kept_rows must be in [0, {n}], got {kept_rows!r}")
        #: K_nM's first rows held in ``kernel``; the rest are recomputed per pass.
        self.kept_rows = kept_rows
        with self._timed("kernel"):
            if kernel is None and kept_rows:
                kernel = self.kernel_rows(0, kept_rows)
                self.passes += 1
        self.kernel = kernel
        #: Whether the kept rows go through the fused kernel (Numba installed).
        self._fused = (not is_torch(X) and kernel is not None and _streaming.available()
                       and kernel.flags.c_contiguous)
        #: How ``kernel_products`` runs (fit_info "kernel_products").
        if is_torch(X):
            self.products = f"torch row blocks ({X.device})"
        elif self._fused and kept_rows < n:
            self.products = f"{_streaming.NAME}, recomputed rows in BLAS row blocks"
        elif self._fused:
            self.products = _streaming.NAME
        else:
            self.products = "BLAS row blocks"
        # As many threads as BLAS may use here (a trial caps both).
        self._threads = blas_threads() or 1
        with self._timed("factor"):
            self.factors, self.L_diag = _pack_factors(self._factor_centers_kernel())
        #: Whether ``factors`` still holds LᵀL (a single-use solve overwrites it).
        self._has_gram = True
        self._work = None  # several_C: the array each C's preconditioner is factored in

    @contextlib.contextmanager
    def _timed(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - started

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_centers(self) -> int:
        return self.centers.shape[0]

    def kernel_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows start:stop of K_nM, computed (in the data dtype); streamed
        only, so allocated without huge pages (``benchbase.numerics.pages``)."""
        with without_huge_pages():
            return gaussian_kernel(self.X[start:stop], self.centers, self.kernel_width,
                                   B_sq_norms=self._centers_sq_norms)

    def _factor_centers_kernel(self) -> np.ndarray:
        """Lower Cholesky factor of K_MM + δI (module docstring).

        A factorization that fails is retried with a 100× larger jitter δ.
        """
        jitter = JITTER[self.dtype] * self.n_centers
        for _ in range(4):
            K_MM = gaussian_kernel(self.centers, self.centers, self.kernel_width)
            _add_to_diagonal(K_MM, jitter)
            try:
                return cholesky_lower(K_MM, overwrite=True)
            except np.linalg.LinAlgError:
                del K_MM  # before building the next one
                jitter *= 100.0
        raise np.linalg.LinAlgError(
            f"the centres' kernel matrix K_MM (M={self.n_centers}) is not positive "
            f"definite even with jitter {jitter / 100:g}; use dtype float64"
        )

    def kernel_products(self, V: np.ndarray) -> np.ndarray:
        """K_nMᵀ (K_nM V) (M×k, the data dtype) in one pass over K_nM: per row
        block B, t = B V and then Bᵀ t while B is in cache; the blocks' sums
        accumulate in float64."""
        V = astype(on_device_of(self.X, V), self.dtype)
        if is_torch(V):
            return self._torch_kernel_products(V)
        k, M = V.shape[1], self.n_centers
        # (Bᵀ t)ᵀ = tᵀ B: BLAS runs the thin product faster in this orientation.
        total = np.zeros((k, M), dtype=np.float64)
        if self._fused:
            total += _streaming.kernel_products(self.kernel, V, self._threads).T
        part = np.empty((k, M), dtype=V.dtype)
        for _, block in self._row_blocks(self.kept_rows if self._fused else 0):
            np.matmul((block @ V).T, block, out=part)
            total += part
        self.passes += 1
        return total.T.astype(V.dtype)

    def _row_blocks(self, start: int = 0):
        """(first row, K_nM's rows from there) for K_nM from row ``start`` on:
        slices of the kept rows small enough to stay in cache, then the other
        rows computed anew in blocks."""
        rows = max(STREAM_BLOCK_MIN_ROWS,
                   STREAM_BLOCK_BYTES // (self.n_centers * self.dtype.itemsize))
        for i in range(start, self.kept_rows, rows):
            yield i, self.kernel[i:min(i + rows, self.kept_rows)]
        for i in range(max(start, self.kept_rows), self.n_samples, BLOCK_ROWS):
            yield i, self.kernel_rows(i, min(i + BLOCK_ROWS, self.n_samples))

    def _torch_kernel_products(self, V):
        """``kernel_products`` on tensors: per row block B, Bᵀ (B V), summed in float64."""
        total = empty_like_kind(V, (V.shape[1], self.n_centers), np.float64, zeros=True)
        for _, block in self._row_blocks():
            total += ((block @ V).T @ block).double()
        self.passes += 1
        return astype(total.T, self.dtype)

    def kernel_transpose_times(self, Y: np.ndarray) -> np.ndarray:
        """K_nMᵀ Y, in float64 (one more pass over K_nM)."""
        Y = astype(on_device_of(self.X, Y), self.dtype)
        self.passes += 1
        if is_torch(Y):
            out = empty_like_kind(Y, (self.n_centers, Y.shape[1]), np.float64, zeros=True)
            for start, block in self._row_blocks():
                out += (block.T @ Y[start:start + block.shape[0]]).double()
            return out
        out = np.zeros((self.n_centers, Y.shape[1]), dtype=np.float64)
        if self.kernel is not None:
            out += (Y[:self.kept_rows].T @ self.kernel).T
        for start, block in self._row_blocks(self.kept_rows):  # the recomputed rows
            out += block.T @ Y[start:start + block.shape[0]]
        return out

    def preconditioner(self, C: float) -> np.ndarray:
        """The factors with the preconditioner's in the upper triangle: U with
        UᵀU = LᵀL + (M/(nC)) I, so that A = √(n/M) U (AᵀA = (n/M) LᵀL + I/C).
        The strict lower triangle still holds L (``factors``)."""
        if not self._has_gram:
            raise RuntimeError("this FalkonSystem (several_C=False) has been solved once")
        shift = self.n_centers / (self.n_samples * C)
        try:
            if is_torch(self.factors):
                return _torch_upper_factor(self.factors, shift)
            # A copy for the next C, or LᵀL's own memory: one M×M matrix in all.
            # The copy's memory serves every C: memory freed and allocated
            # anew may cost a first touch again (docs/speed.md, "Freed memory").
            if self.several_C:
                if self._work is None:
                    self._work = np.empty_like(self.factors, order="F")
                G = self._work
                np.copyto(G, self.factors)
            else:
                G = self.factors
            self._has_gram = self.several_C
            _add_to_diagonal(G, shift)
            return _upper_cholesky_in_place(G)
        except np.linalg.LinAlgError as exc:
            raise np.linalg.LinAlgError(
                f"Falkon preconditioner is not positive definite at C={C!r} ({exc}); "
                "use dtype float64"
            ) from exc

    def _solve_L(self, V, *, transpose: bool):
        """L⁻¹ V (or L⁻ᵀ V) with L = L₁ D, L₁ the unit lower triangle of ``factors``."""
        d = self.L_diag[:, None]
        if transpose:
            return _triangular(self.factors, V / d, lower=True, transpose=True)
        return _triangular(self.factors, V, lower=True, transpose=False) / d

    def _solve_A(self, Q, V, *, transpose: bool):
        """A⁻¹ V (or A⁻ᵀ V) for A = √(n/M) U, U the upper triangle of ``Q``."""
        scale = math.sqrt(self.n_centers / self.n_samples)
        return _triangular(Q, V, lower=False, transpose=transpose) * scale

    def solve(self, Y: np.ndarray, C: float, *, tol: float = 1e-5, max_iter: int = 100
              ) -> tuple[np.ndarray, CGResult]:
        """α solving (1) for this C, and CG's report.

        A solve that does not reach ``tol`` in ``max_iter`` iterations warns
        (ConvergenceWarning) and returns its last iterate.
        """
        if not C > 0:
            raise ValueError(f"C must be > 0, got {C!r}")
        dtype = self.dtype
        rhs = astype(self.kernel_transpose_times(Y), dtype)
        with self._timed("preconditioner"):
            Q = self.preconditioner(C)
        # With T = Lᵀ: T⁻¹ v = L⁻ᵀ v and T⁻ᵀ v = L⁻¹ v.

        # CG's vectors are NumPy float64; each product W u runs where K_nM is.
        def here(U):
            return on_device_of(Q, U.astype(dtype))

        def apply(U):
            z = self._solve_A(Q, here(U), transpose=False)                  # A⁻¹ u
            data = self._solve_L(self.kernel_products(
                self._solve_L(z, transpose=True)), transpose=False)   # T⁻ᵀ H_data T⁻¹ z
            data += z / float(C)
            return astype(to_numpy(self._solve_A(Q, data, transpose=True)),  # A⁻ᵀ (…)
                          np.float64)

        b = to_numpy(self._solve_A(Q, self._solve_L(rhs, transpose=False), transpose=True))
        result = conjugate_gradients(apply, b, tol=tol, max_iter=max_iter)
        self.seconds["cg"] += result.seconds
        alpha = astype(to_numpy(self._solve_L(self._solve_A(Q, here(result.solution),
                                                            transpose=False),
                                              transpose=True)), np.float64)  # B u
        if not result.converged:
            warnings.warn(
                f"Nyström CG stopped after {result.iterations} iterations with relative "
                f"residual {result.residual:.2g} > tol={tol:g} (C={C!r}); raise max_iter",
                ConvergenceWarning, stacklevel=2,
            )
        return alpha, result


def _add_to_diagonal(A, value: float) -> None:
    """A[i, i] += value, in place, for either kind of array."""
    if is_torch(A):
        A.diagonal().add_(value)
    else:
        np.einsum("ii->i", A)[:] += value


#: Columns per block of ``_pack_factors``' LᵀL: GEMMs this wide run at the
#: GEMM rate, and the two temporaries (M × this) stay small beside M×M.
GRAM_BLOCK_COLUMNS = 1024


def _pack_factors(L):
    """(factors, d) from a lower Cholesky factor L (Fortran-ordered, its upper
    triangle free): L's diagonal d, L D⁻¹ in the strict lower triangle and
    LᵀL (the preconditioner's core, T Tᵀ with T = Lᵀ) in the upper triangle
    and diagonal, in L's own memory: one M×M array where L and LᵀL took two.

    LᵀL goes in by column blocks J: its rows above J are L[J:, :J]ᵀ L[J:, J],
    read from the strict lower triangle, which no block writes. That is the
    third of a GEMM's work LAPACK's lauum does, plus each diagonal block
    computed whole (docs/speed.md, "One M×M array", has the cost). (torch, a
    GPU, builds it out of place.)
    """
    d = L.diagonal().clone() if is_torch(L) else L.diagonal().copy()
    if is_torch(L):
        return (L.mT @ L).triu() + (L / d).tril(-1), d
    M, width = L.shape[0], min(GRAM_BLOCK_COLUMNS, L.shape[0])
    # The two temporaries, allocated once (first touches of fresh memory cost).
    panels, products = np.empty(M * width, L.dtype), np.empty(M * width, L.dtype)
    for j0 in range(0, M, width):
        j1 = min(j0 + width, M)
        panel = panels[:(M - j0) * (j1 - j0)].reshape(M - j0, j1 - j0)
        panel[...] = L[j0:, j0:j1]
        panel[:j1 - j0] = np.tril(panel[:j1 - j0])  # L[J:, J], zero above the diagonal
        L[:j0, j0:j1] = np.matmul(L[j0:, :j0].T, panel,
                                  out=products[:j0 * (j1 - j0)].reshape(j0, j1 - j0))
        gram = panel.T @ panel
        rows, cols = np.triu_indices(j1 - j0)
        L[j0 + rows, j0 + cols] = gram[rows, cols]
    for j0 in range(0, M, width):  # L₁ = L D⁻¹, below the diagonal
        j1 = min(j0 + width, M)
        L[j1:, j0:j1] /= d[j0:j1]
        rows, cols = np.tril_indices(j1 - j0, -1)
        L[j0 + rows, j0 + cols] /= d[j0 + cols]
    return L, d


def _upper_cholesky_in_place(G: np.ndarray) -> np.ndarray:
    """G's upper triangle replaced by its Cholesky factor U (UᵀU = G), the
    strict lower triangle untouched: LAPACK's potrf on the upper triangle
    (torch's Cholesky would zero the other one)."""
    potrf = scipy.linalg.lapack.get_lapack_funcs("potrf", (G,))
    factor, info = potrf(G, lower=0, clean=0, overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"leading minor {info} is not positive")
    if not np.shares_memory(factor, G):
        raise RuntimeError("potrf copied the factors (not Fortran-ordered)")
    return G


def _torch_upper_factor(factors, shift: float):
    """``preconditioner`` on a tensor, out of place: LᵀL + shift·I from the
    upper triangle, its upper Cholesky factor, L₁ below."""
    torch = torch_mod()
    G = factors.triu() + factors.triu(1).mT
    G.diagonal().add_(shift)
    U, info = torch.linalg.cholesky_ex(G, upper=True)
    if int(info) > 0:
        raise np.linalg.LinAlgError(f"leading minor {int(info)} is not positive")
    return U + factors.tril(-1)


def _triangular(factors, V, *, lower: bool, transpose: bool):
    """T⁻¹ V (or T⁻ᵀ V) for T the lower triangle of ``factors`` with unit
    diagonal (``lower``) or its upper triangle with its diagonal; V in the
    factors' dtype (a float64 V would cast the M×M array)."""
    assert V.dtype == factors.dtype
    if is_torch(factors):
        return torch_mod().linalg.solve_triangular(
            factors.mT if transpose else factors, V,
            upper=(not lower) != transpose, unitriangular=lower)
    return scipy.linalg.solve_triangular(factors, V, lower=lower, trans=1 if transpose else 0,
                                         unit_diagonal=lower, check_finite=False)


def falkon_fit(X: np.ndarray, Y: np.ndarray, kernel_width: float, C: float,
               n_centers: int, random_state, *, kept_rows: int | None, tol: float,
               max_iter: int) -> tuple[np.ndarray, np.ndarray, CGResult, FalkonSystem]:
    """Nyström kernel ridge by Falkon: (centres, α, CG report, the system,
    whose ``passes`` and ``seconds`` say where the time went).

    Predictions are f(x) = K(x, centres) α; ``n_centers`` is M, in [1, n].
    ``random_state`` is a NumPy RandomState/Generator (see
    ``sklearn.utils.check_random_state``).
    """
    centers = X[sample_centers(X.shape[0], n_centers, random_state)]
    system = FalkonSystem(X, centers, kernel_width, kept_rows=kept_rows,
                          several_C=False)
    alpha, report = system.solve(Y, C, tol=tol, max_iter=max_iter)
    return centers, alpha, report, system


def distances_to_centers(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """‖x_i − c_j‖² for all rows (n×M, in X's dtype), in row blocks; without
    huge pages, as K_nM (``FalkonSystem.kernel_rows``)."""
    with without_huge_pages():
        return squared_distances(X, astype(centers, numpy_dtype(X)))


#: n_centers="auto": M = min(n, max(AUTO_CENTERS_MIN, AUTO_CENTERS_SCALE·√n)).
#: √n is the order that suffices for Nyström kernel ridge's optimal rates
#: (Rudi, Camoriano, Rosasco 2015); the factor 80 (19,596 centres on full
#: MNIST) was set from validation accuracy on MNIST's validation split
#: (48,000 fit: 10,000 centres 98.23 %, 15,000 98.45 %, 20,000 98.59 %) and
#: the five-minute fit budget on 2 cores (docs/kelm-at-scale.md).
AUTO_CENTERS_MIN = 2000
AUTO_CENTERS_SCALE = 80


def default_n_centers(n_samples: int) -> int:
    """The ``n_centers="auto"`` rule (see ``AUTO_CENTERS_SCALE``)."""
    return min(n_samples, max(AUTO_CENTERS_MIN,
                              math.ceil(AUTO_CENTERS_SCALE * math.sqrt(n_samples))))
