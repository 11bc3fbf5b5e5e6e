"""The compiled kernel of ``benchbase_elm._streaming`` (imported only when it first runs).

A process that imports the ELM plugins (the trial launcher preloads them)
must not start Numba before a trial has capped its threads
(``benchbase.trial.threads``), so nothing imports this module at start-up.
"""

from __future__ import annotations

import numba
import numpy as np

from benchbase_elm._streaming import CHUNK_ROWS, CLASSES, COLUMNS, ROWS


def _compile(kernel):
    # Vector lanes reassociate the sums along a row; NaN and inf keep their meaning.
    options = {"parallel": True, "fastmath": {"reassoc", "contract"}, "nogil": True}
    try:
        return numba.njit(cache=True, **options)(kernel)
    except RuntimeError:  # no writable cache folder: compile in each process
        return numba.njit(**options)(kernel)

# The helpers loop over whole slices from index 0: LLVM then knows no index
# is negative (no wraparound test) and vectorizes the loops.
_inline = numba.njit(inline="always", fastmath={"reassoc", "contract"})


@_inline
def _dots_2x5(x0, x1, v0, v1, v2, v3, v4, zero):  # pragma: no cover - compiled
    """The ten dot products of two row slices with five class slices, all in
    registers: each load of a row or of V feeds several multiply-adds."""
    s00 = s01 = s02 = s03 = s04 = zero
    s10 = s11 = s12 = s13 = s14 = zero
    for j in range(x0.shape[0]):
        a0, a1 = x0[j], x1[j]
        b0, b1, b2, b3, b4 = v0[j], v1[j], v2[j], v3[j], v4[j]
        s00 += a0 * b0
        s01 += a0 * b1
        s02 += a0 * b2
        s03 += a0 * b3
        s04 += a0 * b4
        s10 += a1 * b0
        s11 += a1 * b1
        s12 += a1 * b2
        s13 += a1 * b3
        s14 += a1 * b4
    return s00, s01, s02, s03, s04, s10, s11, s12, s13, s14


@_inline
def _dot(x, v, zero):  # pragma: no cover - compiled
    s = zero
    for j in range(x.shape[0]):
        s += x[j] * v[j]
    return s


@_inline
def _add_4x5(p0, p1, p2, p3, p4, x0, x1, x2, x3, t, c):  # pragma: no cover - compiled
    """p_d += Σ_a t[a, c + d] x_a for five classes d and four rows a: each load
    of a row slice feeds five multiply-adds, the twenty weights in registers."""
    a00, a01, a02, a03 = t[0, c], t[1, c], t[2, c], t[3, c]
    a10, a11, a12, a13 = t[0, c + 1], t[1, c + 1], t[2, c + 1], t[3, c + 1]
    a20, a21, a22, a23 = t[0, c + 2], t[1, c + 2], t[2, c + 2], t[3, c + 2]
    a30, a31, a32, a33 = t[0, c + 3], t[1, c + 3], t[2, c + 3], t[3, c + 3]
    a40, a41, a42, a43 = t[0, c + 4], t[1, c + 4], t[2, c + 4], t[3, c + 4]
    for j in range(p0.shape[0]):
        y0, y1, y2, y3 = x0[j], x1[j], x2[j], x3[j]
        p0[j] += a00 * y0 + a01 * y1 + a02 * y2 + a03 * y3
        p1[j] += a10 * y0 + a11 * y1 + a12 * y2 + a13 * y3
        p2[j] += a20 * y0 + a21 * y1 + a22 * y2 + a23 * y3
        p3[j] += a30 * y0 + a31 * y1 + a32 * y2 + a33 * y3
        p4[j] += a40 * y0 + a41 * y1 + a42 * y2 + a43 * y3


@_inline
def _add_row(p, x, t):  # pragma: no cover - compiled
    for j in range(p.shape[0]):
        p[j] += t * x[j]


@_compile
def products(K, Vt, k, transpose_too, out):  # pragma: no cover - compiled
    """Per chunk of rows, the sum over its rows r of (K[r] · Vt[c]) K[r] for each
    class c < k, into out[chunk, c] (without ``transpose_too`` only the first
    products, out[chunk, c, r − chunk start])."""
    n, M = K.shape
    for chunk in numba.prange(out.shape[0]):
        start = chunk * CHUNK_ROWS
        stop = min(n, start + CHUNK_ROWS)
        part = np.zeros((Vt.shape[0], M), K.dtype)  # padded classes: rows of zeros
        t = np.zeros((ROWS, Vt.shape[0]), K.dtype)
        zero = part[0, 0]  # a zero of K's dtype: the sums stay in it
        for r0 in range(start, stop, ROWS):
            rows = min(ROWS, stop - r0)
            t[:] = zero
            for j0 in range(0, M, COLUMNS):
                j1 = min(M, j0 + COLUMNS)
                if rows == ROWS:
                    for a in range(0, ROWS, 2):
                        x0, x1 = K[r0 + a, j0:j1], K[r0 + a + 1, j0:j1]
                        for c in range(0, Vt.shape[0], CLASSES):
                            sums = _dots_2x5(x0, x1, Vt[c, j0:j1], Vt[c + 1, j0:j1],
                                             Vt[c + 2, j0:j1], Vt[c + 3, j0:j1],
                                             Vt[c + 4, j0:j1], zero)
                            for d in range(CLASSES):
                                t[a, c + d] += sums[d]
                                t[a + 1, c + d] += sums[CLASSES + d]
                else:
                    for a in range(rows):
                        for c in range(k):
                            t[a, c] += _dot(K[r0 + a, j0:j1], Vt[c, j0:j1], zero)
            if not transpose_too:
                for a in range(rows):
                    for c in range(k):
                        out[chunk, c, r0 - start + a] = t[a, c]
                continue
            for j0 in range(0, M, COLUMNS):
                j1 = min(M, j0 + COLUMNS)
                if rows == ROWS:
                    x0, x1 = K[r0, j0:j1], K[r0 + 1, j0:j1]
                    x2, x3 = K[r0 + 2, j0:j1], K[r0 + 3, j0:j1]
                    for c in range(0, Vt.shape[0], CLASSES):  # padded classes add zeros
                        _add_4x5(part[c, j0:j1], part[c + 1, j0:j1], part[c + 2, j0:j1],
                                 part[c + 3, j0:j1], part[c + 4, j0:j1], x0, x1, x2, x3, t, c)
                else:
                    for c in range(k):
                        for a in range(rows):
                            _add_row(part[c, j0:j1], K[r0 + a, j0:j1], t[a, c])
        if transpose_too:
            out[chunk] = part[:k]
