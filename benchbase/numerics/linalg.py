"""Shared numerics: the Gaussian kernel, the ridge (Cholesky) solver, blocked products.

Written once, used by every kernel or ridge method (KELM, RELM, the KELM head of
the autoencoders). Large matrices are built in row blocks: besides bounding
temporaries, it avoids a segfault seen in some OpenBLAS builds on a single
``X @ X.T`` with 30,000 or more rows.

Every function takes NumPy arrays (the CPU path) or torch tensors (a GPU,
``benchbase.numerics.devices``) and computes where its input lives.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import scipy.linalg

from benchbase.numerics.devices import astype, empty_like_kind, is_torch, numpy_dtype, torch_mod

#: Rows per block when building kernel matrices and predicting.
BLOCK_ROWS = 4096


def squared_norms(X: np.ndarray) -> np.ndarray:
    if is_torch(X):
        return (X * X).sum(1)
    return np.einsum("ij,ij->i", X, X)


def squared_distances(
    A: np.ndarray,
    B: np.ndarray,
    *,
    B_sq_norms: np.ndarray | None = None,
    out: np.ndarray | None = None,
    block_rows: int = BLOCK_ROWS,
) -> np.ndarray:
    """D[i, j] = ‖A_i − B_j‖², as ‖a‖² + ‖b‖² − 2 a·b: one GEMM per row block.

    Rounding can make the identity slightly negative; those entries are
    clipped to zero. The result has A's dtype.
    """
    B = astype(B, numpy_dtype(A))
    if B_sq_norms is None:
        B_sq_norms = squared_norms(B)
    if out is None:
        out = empty_like_kind(A, (A.shape[0], B.shape[0]))
    for start in range(0, A.shape[0], block_rows):
        stop = min(start + block_rows, A.shape[0])
        block = out[start:stop]
        a = A[start:stop]
        if is_torch(block):
            torch_mod().matmul(a, B.T, out=block)
        else:
            np.matmul(a, B.T, out=block)
        block *= -2
        block += squared_norms(a)[:, None]
        block += B_sq_norms[None, :]
        if is_torch(block):
            block.clamp_(min=0)
        else:
            np.maximum(block, 0, out=block)
    return out


def gaussian_from_squared_distances(D: np.ndarray, kernel_width: float,
                                    *, out: np.ndarray | None = None) -> np.ndarray:
    """exp(−D / (2 γ²)) elementwise (in place when ``out`` is D)."""
    if not kernel_width > 0:
        raise ValueError(f"kernel_width must be > 0, got {kernel_width!r}")
    scale = -1.0 / (2.0 * kernel_width**2)
    if is_torch(D):
        torch = torch_mod()
        out = torch.mul(D, scale) if out is None else torch.mul(D, scale, out=out)
        return out.exp_()
    out = np.multiply(D, D.dtype.type(scale), out=out)
    return np.exp(out, out=out)


def gaussian_kernel(
    A: np.ndarray,
    B: np.ndarray,
    kernel_width: float,
    *,
    B_sq_norms: np.ndarray | None = None,
    block_rows: int = BLOCK_ROWS,
) -> np.ndarray:
    """K[i, j] = exp(−‖A_i − B_j‖² / (2 γ²)), eq. (12), γ = ``kernel_width``.

    Built in place: one matrix is allocated, the distances then their
    exponential. The result has A's dtype.
    """
    if not kernel_width > 0:  # fail before the expensive part
        raise ValueError(f"kernel_width must be > 0, got {kernel_width!r}")
    D = squared_distances(A, B, B_sq_norms=B_sq_norms, block_rows=block_rows)
    return gaussian_from_squared_distances(D, kernel_width, out=D)


def gram_accumulate(G: np.ndarray, H: np.ndarray) -> None:
    """G += HᵀH in G's lower triangle, by a symmetric rank-k update (syrk).

    syrk does half the work of a general HᵀH product. G must be a
    Fortran-ordered square array; only its lower triangle is meaningful, which
    is all ``ridge_solve`` reads (filling the other would cost a pass over G).
    (A torch G, on a GPU, gets the whole product: torch has no syrk, and GPU
    time is not the bottleneck.)
    """
    if is_torch(G):
        G.addmm_(H.T.to(G.dtype), H.to(G.dtype))
        return
    syrk = scipy.linalg.blas.get_blas_funcs("syrk", (G,))
    # A C-ordered H is a Fortran-ordered Hᵀ, so HᵀH = (Hᵀ)(Hᵀ)ᵀ is syrk with trans=0.
    syrk(1.0, np.ascontiguousarray(H, dtype=G.dtype).T, beta=1.0, c=G, trans=0,
         lower=1, overwrite_c=1)


#: Factorization backend: "auto" (torch when installed, else scipy), "torch",
#: "scipy". The two are about as fast on a quiet machine, but torch's (MKL)
#: kept far more of its speed than scipy's OpenBLAS when other jobs shared the
#: cores (README, "Linear algebra"). BENCHBASE_LINALG overrides.
LINALG_BACKEND = "auto"
_BACKENDS = ("auto", "torch", "scipy")


def linalg_backend() -> str:
    """The backend factorizations use now: "torch" or "scipy"."""
    choice = os.environ.get("BENCHBASE_LINALG", LINALG_BACKEND)
    if choice not in _BACKENDS:
        raise ValueError(f"BENCHBASE_LINALG must be one of {_BACKENDS}, got {choice!r}")
    if choice == "auto":
        return "torch" if importlib.util.find_spec("torch") is not None else "scipy"
    return choice


def backend_modules() -> tuple[str, ...]:
    """Modules a fit using this module imports besides NumPy and SciPy: what an
    algorithm's ``AlgorithmSpec.preload`` should name (torch takes seconds to
    import, once per trial process unless preloaded)."""
    return ("torch",) if linalg_backend() == "torch" else ()


def _not_positive_definite(C, detail) -> np.linalg.LinAlgError:
    return np.linalg.LinAlgError(
        f"ridge system is not positive definite at C={C!r} ({detail}); "
        "try a smaller C or float64"
    )


def cholesky_lower(G: np.ndarray, *, overwrite: bool = False) -> np.ndarray:
    """Lower Cholesky factor L of symmetric positive definite G (L Lᵀ = G).

    Uses the ``linalg_backend()`` (torch/MKL when installed, else scipy).
    Only the lower triangle of G, seen in Fortran order, is read (a C-ordered
    G is read through its transpose, the same matrix when G is symmetric).
    Returns a Fortran-ordered array whose lower triangle holds L (its upper
    triangle is unspecified); with ``overwrite=True`` that is G's own memory.
    Raises ``np.linalg.LinAlgError`` when G is not numerically positive definite.
    A torch G (a GPU) is factored by torch where it lives, in place when
    ``overwrite``.
    """
    if is_torch(G):
        return _torch_cholesky_lower(G, overwrite)
    # LAPACK works in Fortran order and would copy a C-ordered G.
    a = G.T if G.flags.c_contiguous and not G.flags.f_contiguous else G
    if not overwrite:
        a = np.array(a, order="F")
    if linalg_backend() == "torch":
        import torch

        _torch_cholesky_lower(torch.from_numpy(a), True)  # a column-major view of a
        return a
    factor, _ = scipy.linalg.cho_factor(a, lower=True, overwrite_a=True,
                                        check_finite=False)
    return factor


def _torch_cholesky_lower(G, overwrite: bool):
    torch = torch_mod()
    # G is symmetric, so its transpose (a column-major view) is the same matrix
    # and the layout LAPACK/cuSOLVER factor without a copy.
    A = G.T if G.is_contiguous() else G
    if not overwrite:
        A = A.clone()  # keeps the column-major strides
    info = torch.empty((), dtype=torch.int32, device=A.device)
    torch.linalg.cholesky_ex(A, out=(A, info))  # in place
    if int(info) > 0:
        raise np.linalg.LinAlgError(f"leading minor {int(info)} is not positive")
    return A


def ridge_solve(G: np.ndarray, B: np.ndarray, C: float, *, overwrite: bool = False
                ) -> np.ndarray:
    """Solve (G + I/C) X = B for symmetric positive semi-definite G.

    Cholesky factorization and two triangular solves, never an explicit
    inverse. With ``overwrite=True`` G is factored in place (no N×N copy) and
    is garbage afterwards. Only one triangle of G is read: the lower one as
    stored in Fortran order, i.e. the upper one of a C-ordered G (a full
    symmetric G serves either way).
    """
    if not C > 0:
        raise ValueError(f"C must be > 0, got {C!r}")
    if not overwrite:
        # order="A": a Fortran G stays Fortran, its filled triangle the one read
        G = G.clone() if is_torch(G) else G.copy(order="A")
    if is_torch(G):
        G.diagonal().add_(1.0 / C)
    else:
        diag = np.einsum("ii->i", G)  # a writable view of the diagonal
        diag += G.dtype.type(1.0 / C)
    B = astype(B, numpy_dtype(G))
    backend = linalg_backend()
    try:
        factor = cholesky_lower(G, overwrite=True)
    except np.linalg.LinAlgError as exc:
        raise _not_positive_definite(C, exc) from exc
    if is_torch(G):
        return torch_mod().cholesky_solve(B, factor)
    if backend == "torch":
        import torch

        rhs = torch.from_numpy(np.ascontiguousarray(B))
        return torch.cholesky_solve(rhs, torch.from_numpy(factor)).numpy()
    return scipy.linalg.cho_solve((factor, True), B, check_finite=False)


def least_squares(H: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The minimum-norm least-squares solution of H X ≈ T: X = pinv(H) T.

    LAPACK's gelsy (a complete orthogonal factorization, rank revealed by
    column-pivoted QR) gives the same minimum-norm solution as the SVD-based
    gelsd at less than half the cost here. Always scipy's: torch's gelsy gave
    a different answer from run to run on ill-conditioned H. H and T may be
    overwritten. Torch tensors (a GPU, where LAPACK's gelsy is not available)
    get the SVD-based pseudo-inverse: the same minimum-norm solution.
    """
    if is_torch(H):
        return torch_mod().linalg.pinv(H) @ T
    X, *_ = scipy.linalg.lstsq(H, T, lapack_driver="gelsy", check_finite=False,
                               overwrite_a=True, overwrite_b=True)
    return X


def ridge_fit(build, C: float, dtype) -> tuple[np.ndarray, np.dtype]:
    """Solve (G + I/C) X = B where ``G, B = build(dtype)``; return (X, dtype used).

    A float32 system with large C can be positive definite in exact arithmetic
    yet fail float32 Cholesky (its condition number passes 1/eps). Then the
    system is built again and solved in float64 instead of failing the fit.
    """
    dtype = np.dtype(dtype)
    G, B = build(dtype)
    try:
        return ridge_solve(G, B, C, overwrite=True), dtype
    except np.linalg.LinAlgError:
        if dtype == np.float64:
            raise
    del G, B  # free the float32 system before building the float64 one
    G, B = build(np.dtype(np.float64))
    return ridge_solve(G, B, C, overwrite=True), np.dtype(np.float64)


def for_inference(*arrays):
    """The arrays a prediction is computed from: NumPy arrays as float64,
    torch tensors (a GPU) as they are.

    Why float64 on the CPU: BLAS rounds a row's float32 products differently
    depending on where the row sits in the matrix (OpenBLAS 0.3.31 runs
    different kernel paths for different tiles, even at a fixed block size), so
    float32 predictions changed with how the rows were batched: by up to 1.5e-5
    on scikit-learn's subset-invariance check. Float64 rounding (about 1e-16)
    lies far below float32's resolution, so the results, returned in the
    model's dtype, no longer depend on the batch. It costs 2-3× the float32
    predict time (README, "Batch-independent predictions").
    """
    return tuple(a if is_torch(a) else np.asarray(a, dtype=np.float64) for a in arrays)


def block_apply(fn, X: np.ndarray, block_rows: int = BLOCK_ROWS) -> np.ndarray:
    """Concatenate ``fn(X[i:j])`` over row blocks (bounds temporary memory)."""
    if X.shape[0] <= block_rows:
        return fn(X)
    blocks = [fn(X[i:i + block_rows]) for i in range(0, X.shape[0], block_rows)]
    return torch_mod().cat(blocks) if is_torch(X) else np.concatenate(blocks)
