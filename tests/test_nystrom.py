"""Nyström + Falkon preconditioned CG: exactness, convergence, memory planning, KELM wiring."""

import dataclasses
import tracemalloc

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ParameterGrid
from sklearn.utils.estimator_checks import parametrize_with_checks

import benchbase_elm.kelm as kelm_module
import benchbase_elm.nystrom as nystrom_module
from benchbase.numerics.linalg import gaussian_kernel
from benchbase.plugins import load_catalog
from benchbase.testing import validation_accuracies
from benchbase.trial.splits import validation_split
from benchbase_elm import KELMClassifier, _streaming, memory
from benchbase_elm.nystrom import JITTER, FalkonSystem, conjugate_gradients

WIDTH = 1.5  # digits: 64 pixels in [0, 1]


@parametrize_with_checks([KELMClassifier(solver="nystrom", n_centers="auto")])
def test_scikit_learn_conformance_of_the_nystrom_solver(estimator, check):
    check(estimator)


def _subset(digits, n):
    return digits.X_train[:n].astype(np.float64), digits.y_train[:n]


def _one_hot(y):
    return (y[:, None] == np.unique(y)[None, :]).astype(np.float64)


def test_every_point_a_centre_reproduces_exact_kelm(digits, linalg_backend):
    X, y = _subset(digits, 600)
    kwargs = dict(C=100.0, kernel_width=WIDTH, dtype="float64")
    exact = KELMClassifier(solver="exact", **kwargs).fit(X, y)
    approx = KELMClassifier(solver="nystrom", n_centers=600, tol=1e-10, **kwargs).fit(X, y)
    assert (exact.solver_, approx.solver_) == ("exact", "nystrom")
    assert approx.n_centers_ == 600
    # With M = n the preconditioner is exact: CG needs (about) one step.
    assert approx.fit_info_["cg_iterations"] <= 3
    X_test = digits.X_test[:200].astype(np.float64)
    np.testing.assert_allclose(approx.decision_function(X_test),
                               exact.decision_function(X_test), rtol=1e-6, atol=1e-8)


def _normal_equations(X, centres, Y, C):
    K_nM = gaussian_kernel(X, centres, WIDTH)
    K_MM = gaussian_kernel(centres, centres, WIDTH)
    return K_nM.T @ K_nM + K_MM / C, K_nM.T @ Y


def test_cg_solves_the_normal_equations_to_its_tolerance(digits):
    X, y = _subset(digits, 800)
    Y, centres, C = _one_hot(y), X[::4], 1e3
    alpha, report = FalkonSystem(X, centres, WIDTH).solve(Y, C, tol=1e-8)
    assert report.converged and report.residual <= 1e-8
    H, b = _normal_equations(X, centres, Y, C)
    direct = np.linalg.solve(H, b)
    # Compare fitted values K_nM α (α itself is ill-determined along K_MM's
    # tiny eigenvectors, which change predictions by nothing).
    K_nM = gaussian_kernel(X, centres, WIDTH)
    np.testing.assert_allclose(K_nM @ alpha, K_nM @ direct, atol=1e-5)


def test_preconditioning_cuts_iterations_on_an_ill_conditioned_problem(digits):
    X, y = _subset(digits, 400)
    centres, Y, C = X[::4], _one_hot(y), 1e4  # weak ridge: H's condition number is huge
    _, preconditioned = FalkonSystem(X, centres, WIDTH).solve(Y, C, tol=1e-6)
    H, b = _normal_equations(X, centres, Y, C)
    plain = conjugate_gradients(lambda V: H @ V, b, tol=1e-6, max_iter=5000)
    assert preconditioned.converged and plain.converged
    assert 4 * preconditioned.iterations < plain.iterations


def test_conjugate_gradients_on_a_known_system():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(30, 30)))
    W = Q @ np.diag(np.geomspace(1.0, 1e3, 30)) @ Q.T
    b = rng.normal(size=(30, 3))
    b[:, 2] = 0  # a zero right-hand side is solved by zero, without 0/0
    result = conjugate_gradients(lambda V: W @ V, b, tol=1e-10, max_iter=200)
    assert result.converged and result.iterations <= 60
    np.testing.assert_allclose(result.solution, np.linalg.solve(W, b), atol=1e-8)


def test_unconverged_solve_warns(digits):
    X, y = _subset(digits, 400)
    with pytest.warns(ConvergenceWarning, match="stopped after 1 iterations"):
        model = KELMClassifier(solver="nystrom", n_centers=100, kernel_width=WIDTH,
                               C=1e3, max_iter=1).fit(X, y)
    assert model.fit_info_["cg_iterations"] == 1


def _sizes(n, M, k=10):
    exact = memory.planned_bytes(n, k, np.float32)
    kept = memory.planned_bytes(n, k, np.float32, n_centers=M)
    blocked = memory.planned_bytes(n, k, np.float32, n_centers=M, kept_rows=0)
    return exact, kept, blocked


def test_memory_estimates_count_the_big_arrays():
    n, n_val, M = 48_000, 12_000, 12_000
    exact, kept, blocked = _sizes(n, M)
    assert exact >= n**2 * 4  # the N×N float32 kernel: 9.2 GB
    # K_nM itself, and the fused products' float64 sum per chunk of rows
    chunk_sums = -(-n // _streaming.CHUNK_ROWS) * M * 10 * 8
    assert kept - blocked == n * M * 4 + chunk_sums
    assert blocked >= M**2 * 4  # L and LᵀL packed, A in their place, in float32
    # Scoring a grid keeps K_nM, LᵀL for the next C and the validation rows' kernel...
    scoring = memory.planned_bytes(n, 10, np.float32, n_centers=M, n_val=n_val)
    assert scoring - kept == M**2 * 4 + 2 * n_val * M * 4
    # ... and, when it keeps them, the fit rows' distances for the next width.
    with_distances = memory.planned_bytes(n, 10, np.float32, n_centers=M, n_val=n_val,
                                          keep_distances=True)
    assert with_distances - scoring == n * M * 4
    # Exact scoring keeps the distances, their exponential and the copy each C factors.
    exact_scoring = memory.planned_bytes(n, 10, np.float32, n_val=n_val)
    assert exact_scoring - exact == 2 * n**2 * 4 + 2 * n_val * n * 4


def test_one_array_holds_l_and_its_gram_and_then_the_preconditioner(digits, linalg_backend,
                                                                     monkeypatch):
    monkeypatch.setattr(nystrom_module, "GRAM_BLOCK_COLUMNS", 96)
    X, _ = _subset(digits, 500)
    centres = X[::2]  # M = 250, in blocks of 96 columns: a last block narrower
    K_MM = gaussian_kernel(centres, centres, WIDTH)
    M = len(centres)
    K_MM[np.diag_indices(M)] += JITTER[np.dtype(np.float64)] * M
    L = np.linalg.cholesky(K_MM)
    system = FalkonSystem(X, centres, WIDTH, several_C=False)
    packed = system.factors
    np.testing.assert_allclose(system.L_diag, np.diag(L), rtol=1e-12)
    np.testing.assert_allclose(np.tril(packed, -1), np.tril(L / np.diag(L), -1), atol=1e-12)
    np.testing.assert_allclose(np.triu(packed), np.triu(L.T @ L), atol=1e-10)
    C = 10.0
    U = system.preconditioner(C)
    assert np.shares_memory(U, packed)  # factored in place: one M×M array in all
    A = np.sqrt(len(X) / M) * np.triu(U)
    np.testing.assert_allclose(A.T @ A, len(X) / M * L.T @ L + np.eye(M) / C, atol=1e-8)
    np.testing.assert_allclose(np.tril(U, -1), np.tril(L / np.diag(L), -1), atol=1e-12)


def test_a_nystrom_fit_allocates_no_more_than_it_planned(digits):
    """The planner's count bounds what the fit really allocates (NumPy's
    allocations, traced), with the kernel kept and with none of it kept."""
    X = np.tile(digits.X_train.astype(np.float32), (2, 1))[:3000]
    Y, M = _one_hot(np.tile(digits.y_train, 2)[:3000]), 2500  # M×M as large as K_nM
    FalkonSystem(X[:50], X[:10], WIDTH).solve(Y[:50], 1.0)  # imports and compiles first
    for kept_rows in (None, 0):
        tracemalloc.start()
        FalkonSystem(X, X[:M], WIDTH, kept_rows=kept_rows, several_C=False).solve(Y, 10.0)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        planned = memory.planned_bytes(len(X), Y.shape[1], np.float32, n_centers=M,
                                       kept_rows=kept_rows)
        assert M**2 * 4 < peak <= planned, (kept_rows, peak, planned)


def test_every_c_factors_its_preconditioner_in_the_same_second_array(digits):
    X, y = _subset(digits, 400)
    system = FalkonSystem(X, X[::4], WIDTH)
    first = system.preconditioner(10.0)
    again = system.preconditioner(100.0)
    assert again is first and not np.shares_memory(first, system.factors)
    np.testing.assert_array_equal(np.tril(again, -1), np.tril(system.factors, -1))
    # ... and the solves it serves still solve (1), C after C.
    Y = _one_hot(y)
    for C in (10.0, 100.0):
        alpha, report = system.solve(Y, C, tol=1e-8)
        assert report.converged
        H, b = _normal_equations(X, X[::4], Y, C)
        K_nM = gaussian_kernel(X, X[::4], WIDTH)
        np.testing.assert_allclose(K_nM @ alpha, K_nM @ np.linalg.solve(H, b), atol=1e-5)


def test_a_single_use_fit_holds_one_m_by_m_array(digits, monkeypatch):
    """L, LᵀL and the preconditioner's factor share M² numbers (they took
    two M×M arrays before); K_nM recomputed in small blocks, so the M×M array
    is the traced peak, with small temporaries beside it."""
    monkeypatch.setattr(nystrom_module, "GRAM_BLOCK_COLUMNS", 128)
    monkeypatch.setattr(nystrom_module, "BLOCK_ROWS", 128)
    X = np.tile(digits.X_train.astype(np.float32), (2, 1))[:3000]
    Y, M = _one_hot(np.tile(digits.y_train, 2)[:3000]), 2500
    FalkonSystem(X[:50], X[:10], WIDTH).solve(Y[:50], 1.0)  # imports and compiles first
    tracemalloc.start()
    FalkonSystem(X, X[:M], WIDTH, kept_rows=0, several_C=False).solve(Y, 10.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert M**2 * 4 < peak < 1.5 * M**2 * 4


def test_a_single_use_system_refuses_a_second_solve(digits):
    X, y = _subset(digits, 200)
    system = FalkonSystem(X, X[::4], WIDTH, several_C=False)
    system.solve(_one_hot(y), 10.0)
    with pytest.raises(RuntimeError, match="solved once"):
        system.solve(_one_hot(y), 100.0)


def _forbid_large_allocations(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a kernel matrix was built before the memory check")

    monkeypatch.setattr(kelm_module, "gaussian_kernel", refuse)
    monkeypatch.setattr(kelm_module, "falkon_fit", refuse)


@pytest.mark.parametrize("solver", ["exact", "nystrom", "auto"])
def test_a_solver_that_cannot_fit_is_refused_before_allocating(solver, digits, monkeypatch):
    X, y = _subset(digits, 500)
    _forbid_large_allocations(monkeypatch)
    model = KELMClassifier(solver=solver, n_centers=400, memory_budget=10_000)
    with pytest.raises(MemoryError, match=r"memory budget of 0\.00 GiB") as error:
        model.fit(X, y)
    sizes = "500×500" if solver == "exact" else "400 centres"
    assert sizes in str(error.value)


def test_default_budget_reads_available_memory(digits, monkeypatch):
    X, y = _subset(digits, 500)
    exact, _, _ = _sizes(500, 500)
    # Half of "available" memory is just under what the exact system needs.
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 2 * exact - 2)
    model = KELMClassifier(kernel_width=WIDTH, n_centers=100).fit(X, y)
    assert model.solver_ == "nystrom"
    assert model.fit_info_["memory_budget"] == exact - 1
    monkeypatch.undo()
    assert memory.available_memory_bytes() > 0


def test_auto_switches_solver_at_the_budget(digits):
    X, y = _subset(digits, 500)
    exact, kept, blocked = _sizes(500, 50)
    X32 = X.astype(np.float32)
    at_budget = KELMClassifier(memory_budget=exact, n_centers=50, kernel_width=WIDTH)
    assert at_budget.fit(X32, y).solver_ == "exact"
    assert at_budget.n_centers_ == 500
    below = KELMClassifier(memory_budget=exact - 1, n_centers=50, kernel_width=WIDTH)
    assert below.fit(X32, y).solver_ == "nystrom"
    assert (below.n_centers_, below.fit_info_["kernel_kept"]) == (50, 1.0)
    # Below what K_nM needs: the rows that fit are kept, the others recomputed
    # in blocks each iteration; none kept at the bare minimum. Same solution.
    for budget, share in ((kept - 1, (0.5, 1.0)), (blocked, (0.0, 0.0))):
        recomputing = KELMClassifier(memory_budget=budget, n_centers=50, kernel_width=WIDTH)
        kept_share = recomputing.fit(X32, y).fit_info_["kernel_kept"]
        assert share[0] <= kept_share <= share[1] and kept_share != 1.0
        np.testing.assert_allclose(recomputing.decision_function(X32[:50]),
                                   below.decision_function(X32[:50]), rtol=1e-4, atol=1e-4)
    with pytest.raises(MemoryError, match="even recomputing"):
        KELMClassifier(memory_budget=blocked - 1, solver="nystrom", n_centers=50,
                       kernel_width=WIDTH).fit(X32, y)


def test_the_planner_keeps_the_most_rows_that_fit():
    n, M, k = 10_000, 500, 10
    for budget_share in (0.0, 0.3, 0.77, 1.0):
        none = memory.planned_bytes(n, k, np.float32, n_centers=M, kept_rows=0)
        every = memory.planned_bytes(n, k, np.float32, n_centers=M)
        budget = int(none + budget_share * (every - none))
        kept = memory.nystrom_kept_rows(n, k, np.float32, M, budget)
        assert memory.planned_bytes(n, k, np.float32, n_centers=M, kept_rows=kept) <= budget
        if kept < n:  # one row more would not fit
            assert memory.planned_bytes(n, k, np.float32, n_centers=M,
                                        kept_rows=kept + 1) > budget
        assert abs(kept / n - budget_share) < 0.01
    assert memory.nystrom_kept_rows(n, k, np.float32, M, none - 1) is None


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"solver": "qr"}, "solver"),
        ({"solver": "nystrom", "n_centers": 0}, "n_centers"),
        ({"solver": "nystrom", "n_centers": -3}, "n_centers"),
        ({"solver": "nystrom", "n_centers": 2.5}, "n_centers"),
        ({"solver": "nystrom", "n_centers": "many"}, "n_centers"),
        ({"solver": "nystrom", "n_centers": 121}, "n_centers"),  # blobs has 120 samples
        ({"memory_budget": 0}, "memory_budget"),
        ({"solver": "nystrom", "tol": -1.0}, "tol"),
        ({"solver": "nystrom", "max_iter": 0}, "max_iter"),
    ],
)
def test_invalid_solver_parameters_name_the_parameter(params, name, blobs):
    with pytest.raises(ValueError, match=name):
        KELMClassifier(**params).fit(*blobs)


def test_centres_follow_random_state(digits):
    X, y = _subset(digits, 500)
    kwargs = dict(solver="nystrom", n_centers=120, kernel_width=WIDTH, C=10.0)
    a = KELMClassifier(random_state=3, **kwargs).fit(X, y)
    b = KELMClassifier(random_state=3, **kwargs).fit(X, y)
    c = KELMClassifier(random_state=4, **kwargs).fit(X, y)
    np.testing.assert_array_equal(a.X_fit_, b.X_fit_)
    np.testing.assert_array_equal(a.dual_coef_, b.dual_coef_)
    assert not np.array_equal(a.X_fit_, c.X_fit_)


def test_nystrom_is_accurate_with_few_centres(digits):
    model = KELMClassifier(solver="nystrom", n_centers=400, kernel_width=WIDTH, C=100.0)
    model.fit(digits.X_train, digits.y_train)
    exact = KELMClassifier(solver="exact", kernel_width=WIDTH, C=100.0)
    exact.fit(digits.X_train, digits.y_train)
    assert model.score(digits.X_test, digits.y_test) >= exact.score(
        digits.X_test, digits.y_test) - 0.02


def test_nystrom_selection_scores_equal_fitting_each_point(digits):
    spec = load_catalog().algorithm("KELM")
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    grid = {"kernel_width": [1.0, 2.0], "C": [1.0, 1e3]}
    fixed = {"solver": "nystrom", "n_centers": 300}
    candidates = list(ParameterGrid(grid))
    fast = validation_accuracies(spec, X_fit, y_fit, X_val, y_val, grid, candidates, fixed, 0)
    slow = validation_accuracies(dataclasses.replace(spec, score_grid=None),
                            X_fit, y_fit, X_val, y_val, grid, candidates, fixed, 0)
    np.testing.assert_allclose(fast, slow, atol=1.01 / len(y_val))
    assert len(set(slow)) > 1


def test_selection_uses_nystrom_when_fit_would(digits, monkeypatch):
    spec = load_catalog().algorithm("KELM")
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    built = []
    monkeypatch.setattr(kelm_module, "FalkonSystem",
                        lambda *a, **k: built.append(a[1].shape[0]) or FalkonSystem(*a, **k))
    # Too little memory for the exact system: "auto" picks Nyström, in selection too.
    exact_bytes = memory.planned_bytes(len(y_fit), 10, np.float32)
    scored = spec.score_grid(X_fit=X_fit, y_fit=y_fit, X_val=X_val, y_val=y_val,
                             grid={"C": [10.0, 100.0]},
                             fixed_params={"kernel_width": WIDTH, "n_centers": 100,
                                           "memory_budget": exact_bytes - 1},
                             random_state=None)
    assert [point for point, _ in scored] == [{"C": 10.0}, {"C": 100.0}]
    assert built == [100]  # one system (one width), shared by both C
    assert min(np.mean(predicted == y_val) for _, predicted in scored) > 0.85


def test_selection_fits_each_point_when_its_shared_matrices_do_not_fit(digits, monkeypatch):
    spec = load_catalog().algorithm("KELM")
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    # Enough for one exact fit, not for the grid's distances + kernel + copy.
    budget = memory.planned_bytes(len(y_fit), 10, np.float32)
    grid = {"C": [10.0, 100.0]}
    fixed = {"kernel_width": WIDTH, "memory_budget": budget}
    expected = [(point, KELMClassifier(**fixed, **point).fit(X_fit, y_fit).predict(X_val))
                for point in ParameterGrid(grid)]
    monkeypatch.setattr(kelm_module, "squared_distances", None)  # no shared matrices
    scored = spec.score_grid(X_fit=X_fit, y_fit=y_fit, X_val=X_val, y_val=y_val, grid=grid,
                             fixed_params=fixed, random_state=None)
    assert [point for point, _ in scored] == [point for point, _ in expected]
    for (_, predicted), (_, fitted) in zip(scored, expected, strict=True):
        np.testing.assert_array_equal(predicted, fitted)


def test_selection_recomputes_distances_when_they_do_not_fit(digits, monkeypatch):
    spec = load_catalog().algorithm("KELM")
    rows = []  # the rows of each distance matrix computed to the centres
    original = kelm_module.distances_to_centers
    monkeypatch.setattr(kelm_module, "distances_to_centers",
                        lambda X, c: rows.append(len(X)) or original(X, c))
    X_fit, X_val, y_fit, y_val = validation_split(digits.X_train, digits.y_train, seed=0)
    n, n_val, M = len(y_fit), len(y_val), 100
    with_distances = memory.planned_bytes(n, 10, np.float32, n_centers=M, n_val=n_val,
                                          keep_distances=True)
    grid = {"kernel_width": [1.0, 2.0], "C": [10.0]}

    def scores(budget):
        return spec.score_grid(X_fit=X_fit, y_fit=y_fit, X_val=X_val, y_val=y_val,
                               grid=grid, fixed_params={"memory_budget": budget,
                                                        "n_centers": M},
                               random_state=None)

    recomputed = scores(with_distances - 1)  # K_nM built from scratch per width
    assert rows == [n_val]
    reused = scores(with_distances)
    assert rows == [n_val, n, n_val]
    assert [point for point, _ in recomputed] == [point for point, _ in reused]
    for (_, a), (_, b) in zip(recomputed, reused, strict=True):
        np.testing.assert_array_equal(a, b)


def test_auto_prefers_nystrom_above_the_exact_sample_limit(monkeypatch, blobs):
    X, y = blobs  # 120 samples
    huge = 10**12
    monkeypatch.setattr(memory, "AUTO_EXACT_MAX_SAMPLES", 100)
    model = KELMClassifier(kernel_width=1.0, memory_budget=huge).fit(X, y)
    assert model.solver_ == "nystrom"
    monkeypatch.setattr(memory, "AUTO_EXACT_MAX_SAMPLES", 120)
    assert KELMClassifier(kernel_width=1.0, memory_budget=huge).fit(X, y).solver_ == "exact"


def test_kept_and_recomputed_kernels_give_the_same_products(digits):
    # One pass over K_nM in row blocks, kept or rebuilt: the same K_nMᵀ(K_nM V)
    # as the two products written out, and each call counts one pass.
    X, _ = _subset(digits, 700)
    centres, V = X[::7], np.random.default_rng(0).normal(size=(100, 4))
    want = gaussian_kernel(X, centres, WIDTH).T @ (gaussian_kernel(X, centres, WIDTH) @ V)
    Y = np.random.default_rng(1).normal(size=(700, 4))
    for kept in (700, 0, 333):  # all, none, and the first 333 rows kept
        system = FalkonSystem(X, centres, WIDTH, kept_rows=kept)
        before = system.passes
        np.testing.assert_allclose(system.kernel_products(V), want, rtol=1e-10)
        np.testing.assert_allclose(system.kernel_transpose_times(Y),
                                   gaussian_kernel(X, centres, WIDTH).T @ Y, rtol=1e-10)
        assert system.passes == before + 2, kept
        assert system.kept_rows == kept and (system.kernel is None) == (kept == 0)
        fused = kept and _streaming.available()
        assert system.products == (
            "BLAS row blocks" if not fused else _streaming.NAME if kept == 700
            else f"{_streaming.NAME}, recomputed rows in BLAS row blocks")
    with pytest.raises(ValueError, match=r"kept_rows must be in \[0, 700\]"):
        FalkonSystem(X, centres, WIDTH, kept_rows=701)


needs_numba = pytest.mark.skipif(not _streaming.available(),
                                 reason="the fused kernel needs Numba (the ae extra)")


@needs_numba
@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("n, M, k", [
    (2 * _streaming.CHUNK_ROWS + 7, 37, 3),   # a partial chunk, rows left over from ROWS
    (9, 2 * _streaming.COLUMNS + 5, 10),      # several column blocks, a partial one
    (4, 8, 1),                                # one class (padded to CLASSES)
    (3, 5, 12),                               # fewer rows than ROWS, classes past CLASSES
])
def test_the_fused_kernel_computes_both_products(dtype, rtol, n, M, k):
    rng = np.random.default_rng(n)
    K, V = rng.random((n, M)).astype(dtype), rng.normal(size=(M, k)).astype(dtype)
    K64, V64 = K.astype(np.float64), V.astype(np.float64)
    want = K64.T @ (K64 @ V64)
    got = _streaming.kernel_products(K, V, n_threads=1)
    assert got.shape == (M, k) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())
    first = _streaming.kernel_times(K, V, n_threads=1)
    np.testing.assert_allclose(first, K64 @ V64, rtol=rtol, atol=rtol * np.abs(K64 @ V64).max())


@needs_numba
def test_the_fused_kernel_sums_alike_on_any_thread_count():
    # Fixed chunks summed in chunk order: the bits do not depend on the threads.
    rng = np.random.default_rng(0)
    K = rng.random((5 * _streaming.CHUNK_ROWS + 11, 300), dtype=np.float32)
    V = rng.normal(size=(300, 10)).astype(np.float32)
    one = _streaming.kernel_products(K, V, n_threads=1)
    assert np.array_equal(_streaming.kernel_products(K, V, n_threads=2), one)


@needs_numba
def test_the_fused_and_blas_paths_solve_alike(digits):
    X, _ = _subset(digits, 700)
    X = X.astype(np.float32)
    Y = np.random.default_rng(1).normal(size=(700, 3))
    system = FalkonSystem(X, X[::7], WIDTH)
    assert system.products == _streaming.NAME
    fused, fused_report = system.solve(Y, 10.0, tol=1e-6)
    system.products = "BLAS row blocks"
    blas, blas_report = system.solve(Y, 10.0, tol=1e-6)
    assert abs(fused_report.iterations - blas_report.iterations) <= 1
    np.testing.assert_allclose(fused, blas, rtol=1e-3, atol=1e-3 * np.abs(blas).max())


@pytest.mark.parametrize("solver", ["exact", "nystrom"])
def test_every_fit_says_where_its_time_went(digits, solver):
    X, y = _subset(digits, 400)
    model = KELMClassifier(solver=solver, n_centers=100, kernel_width=WIDTH, C=10.0)
    info = model.fit(X, y).fit_info_
    assert info["iterations"] == model.n_iter_ >= 1
    stages = {"exact": {"kernel", "solve"},
              "nystrom": {"kernel", "factor", "preconditioner", "cg"}}[solver]
    assert set(info["seconds"]) == stages
    assert all(seconds >= 0 for seconds in info["seconds"].values())
    assert sum(info["seconds"].values()) <= info["fit_seconds"] + 0.01
    if solver == "nystrom":
        # Built once, K_nMᵀ Y once, then one pass per CG iteration.
        assert info["kernel_passes"] == info["cg_iterations"] + 2
        assert info["kernel_products"] in (_streaming.NAME, "BLAS row blocks")
    else:
        assert info["kernel_passes"] == 1
