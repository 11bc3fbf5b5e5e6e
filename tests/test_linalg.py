"""The shared numerics: Gaussian kernel and ridge solver."""

import numpy as np
import pytest
from sklearn.metrics.pairwise import rbf_kernel

from benchbase.numerics.linalg import (
    block_apply,
    gaussian_kernel,
    gram_accumulate,
    ridge_fit,
    ridge_solve,
)


@pytest.mark.parametrize("block_rows", [1, 7, 4096])
def test_gaussian_kernel_matches_sklearn_rbf(block_rows):
    rng = np.random.default_rng(1)
    A, B = rng.random((23, 5)), rng.random((11, 5))
    width = 0.7
    expected = rbf_kernel(A, B, gamma=1 / (2 * width**2))  # γ as sklearn's gamma
    got = gaussian_kernel(A, B, width, block_rows=block_rows)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_gaussian_kernel_diagonal_is_one_and_float32_stays_float32():
    X = np.random.default_rng(2).random((50, 30)).astype(np.float32)
    K = gaussian_kernel(X, X, 1.5)
    assert K.dtype == np.float32
    np.testing.assert_allclose(np.diag(K), 1.0, atol=1e-6)  # eq. (13)'s zeros are a typo
    assert (K >= 0).all() and (K <= 1).all()


def test_gaussian_kernel_rejects_bad_width():
    with pytest.raises(ValueError, match="kernel_width"):
        gaussian_kernel(np.ones((2, 2)), np.ones((2, 2)), 0.0)


def test_ridge_solve_matches_dense_solve_and_keeps_input(linalg_backend):
    rng = np.random.default_rng(3)
    H = rng.random((40, 12))
    G, B = H.T @ H, rng.random((12, 3))
    G_before = G.copy()
    X = ridge_solve(G, B, C=2.0)
    np.testing.assert_allclose(X, np.linalg.solve(G + np.eye(12) / 2.0, B), rtol=1e-10)
    np.testing.assert_array_equal(G, G_before)


def test_ridge_solve_reads_the_lower_triangle_of_a_kept_fortran_gram(linalg_backend):
    # What gram_accumulate leaves: HᵀH in the lower triangle of a Fortran
    # array, zeros above. A copy must keep the triangle the solver reads.
    rng = np.random.default_rng(4)
    H, B = rng.random((40, 12)), rng.random((12, 3))
    G = np.zeros((12, 12), order="F")
    gram_accumulate(G, H)
    assert not np.triu(G, 1).any()
    np.testing.assert_allclose(ridge_solve(G, B, C=2.0),
                               np.linalg.solve(H.T @ H + np.eye(12) / 2.0, B), rtol=1e-10)


@pytest.mark.parametrize("C", [0, -1.0, float("nan")])
def test_ridge_solve_rejects_bad_C(C):
    with pytest.raises(ValueError, match="C must be > 0"):
        ridge_solve(np.eye(2), np.ones((2, 1)), C)


def test_ridge_fit_promotes_an_ill_conditioned_float32_system(linalg_backend):
    # A rank-2 Gram with a tiny ridge: exact arithmetic says positive definite,
    # float32 Cholesky says otherwise.
    rng = np.random.default_rng(4)
    V = rng.random((300, 2))
    built = []

    def build(dtype):
        built.append(np.dtype(dtype))
        return (V @ V.T * 1e4).astype(dtype), np.ones((300, 1), dtype=dtype)

    X, used = ridge_fit(build, C=1e6, dtype=np.float32)
    assert built == [np.float32, np.float64] and used == np.float64
    assert np.isfinite(X).all()


def test_block_apply_concatenates_blocks():
    X = np.arange(20.0).reshape(10, 2)
    np.testing.assert_array_equal(block_apply(lambda b: b * 2, X, block_rows=3), X * 2)


def test_ridge_solve_overwrite_factors_in_place(linalg_backend):
    rng = np.random.default_rng(5)
    H = rng.random((60, 20)).astype(np.float32)
    G = H.T @ H
    expected = np.linalg.solve(G.astype(np.float64) + np.eye(20), np.ones((20, 2)))
    X = ridge_solve(G, np.ones((20, 2), np.float32), C=1.0, overwrite=True)
    np.testing.assert_allclose(X, expected, rtol=1e-4)
    # G now holds the Cholesky factor: proof that no N×N copy was made.
    L = np.tril(G.T)
    np.testing.assert_allclose(L @ L.T, H.T @ H + np.eye(20, dtype=np.float32), rtol=1e-4)


def test_ridge_solve_reports_an_indefinite_system(linalg_backend):
    G = np.diag([1.0, -5.0, 1.0])
    with pytest.raises(np.linalg.LinAlgError, match=r"not positive definite at C=1\.0"):
        ridge_solve(G, np.ones((3, 1)), C=1.0)


def test_unknown_linalg_backend_is_refused(monkeypatch):
    monkeypatch.setenv("BENCHBASE_LINALG", "lapack")
    with pytest.raises(ValueError, match="BENCHBASE_LINALG must be one of"):
        ridge_solve(np.eye(2), np.ones((2, 1)), C=1.0)
