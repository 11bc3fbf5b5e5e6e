"""K_nMᵀ (K_nM V) in one pass over a kept K_nM, both products while a row is in registers.

A Nyström CG iteration needs the two thin products t = K_nM V and K_nMᵀ t
(V has one column per class). BLAS runs such thin products well below its
GEMM rate, so even with a row block's two products done back to back while
the block is in cache (``FalkonSystem.kernel_products``' BLAS path) the
second product costs most of a second pass. Here a few rows at a time are
multiplied by V and then, still in L1, added into the result scaled by their
products: K_nM streams from memory once, and the arithmetic, vectorized along
a row, hides under the stream.

Rows are split into fixed chunks; each chunk's sum is accumulated in the data
dtype and then added in float64, the chunks in order, so the result does not
depend on the thread count. Numba (the ``ae`` extra) compiles the kernel;
without it ``available()`` is False and the BLAS path runs.
"""

from __future__ import annotations

import importlib.util

import numpy as np

#: Rows multiplied together: the second product loads each result element once
#: per ``ROWS`` rows (four multiply-adds per load and store).
ROWS = 4
#: Rows per chunk: one chunk's sum in the data dtype (rounding grows with its
#: length), then added into the float64 result; also the unit of threading.
CHUNK_ROWS = 2048

#: Columns of K_nM handled together: the block's slices of ``ROWS`` rows, of
#: V and of the result (about 30 KB at ten classes) stay in L1.
COLUMNS = 512
#: Classes one pass of the first product's inner loop multiplies by (V's
#: columns are padded with zeros to a multiple of it).
CLASSES = 5

NAME = "numba fused rows"


def available() -> bool:
    return importlib.util.find_spec("numba") is not None


def _kernel():
    """Numba and the compiled kernel, imported on first use (``_streaming_numba``)."""
    import numba

    from benchbase_elm._streaming_numba import products

    return numba, products


def _use_threads(numba, n_threads: int) -> None:
    numba.set_num_threads(max(1, min(n_threads, numba.config.NUMBA_NUM_THREADS)))


def _padded_transpose(V: np.ndarray, dtype) -> np.ndarray:
    """Vᵀ in ``dtype``, C order, with zero rows up to a multiple of ``CLASSES``."""
    k = V.shape[1]
    Vt = np.zeros((-(-k // CLASSES) * CLASSES, V.shape[0]), dtype)
    Vt[:k] = V.T
    return Vt


def kernel_products(K: np.ndarray, V: np.ndarray, n_threads: int) -> np.ndarray:
    """K_nMᵀ (K_nM V) as float64 (M×k), K (n×M, C order) read once.

    V is cast to K's dtype, as BLAS would multiply them.
    """
    Vt = _padded_transpose(V, K.dtype)
    chunks = -(-K.shape[0] // CHUNK_ROWS)
    parts = np.empty((chunks, V.shape[1], K.shape[1]), np.float64)
    numba, products = _kernel()
    _use_threads(numba, n_threads)
    products(K, Vt, V.shape[1], True, parts)
    total = parts[0].copy()
    for part in parts[1:]:  # in chunk order: the same sum for any thread count
        total += part
    return total.T


def kernel_times(K: np.ndarray, V: np.ndarray, n_threads: int) -> np.ndarray:
    """K_nM V alone by the same kernel (one pass; the yardstick of ``kernel_products``)."""
    Vt = _padded_transpose(V, K.dtype)
    chunks = -(-K.shape[0] // CHUNK_ROWS)
    out = np.empty((chunks, V.shape[1], CHUNK_ROWS), np.float64)
    numba, products = _kernel()
    _use_threads(numba, n_threads)
    products(K, Vt, V.shape[1], False, out)
    rows = [out[i, :, :min(CHUNK_ROWS, K.shape[0] - i * CHUNK_ROWS)] for i in range(chunks)]
    return np.concatenate(rows, axis=1).T
