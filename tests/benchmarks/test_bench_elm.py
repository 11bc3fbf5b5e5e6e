"""ELM family speed: the machine's own rates, our solvers, and the peers'.

Run with ``tox -e bench`` (or ``pytest tests/benchmarks --benchmark-enable
--benchmark-only``). The closing table prints the ratios the targets are
stated in, from this one session.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import scipy.linalg
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import ParameterGrid

from benchbase.numerics.linalg import gaussian_kernel, ridge_solve
from benchbase.plugins import load_catalog
from benchbase.testing import validation_accuracies
from benchbase.trial.splits import validation_split
from benchbase_elm import ELMClassifier, KELMClassifier, RELMClassifier

from .conftest import best_seconds, record

pytestmark = pytest.mark.bench

KELM_PARAMS = {"C": 100.0, "kernel_width": 3.2}  # fixed: speed, not selection
N_HIDDEN = 4000


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm_rate(benchmark, dtype):
    n = 3000
    rng = np.random.default_rng(0)
    A, B = rng.random((n, n)).astype(dtype), rng.random((n, n)).astype(dtype)
    benchmark.pedantic(np.matmul, args=(A, B), rounds=5, warmup_rounds=1)
    record(benchmark, f"gemm_{dtype}_gflops", 2 * n**3 / best_seconds(benchmark) / 1e9,
           "GFLOP/s")


@pytest.mark.parametrize("backend", ["torch", "scipy"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cholesky_rate(benchmark, monkeypatch, backend, dtype):
    if backend == "torch" and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    monkeypatch.setenv("BENCHBASE_LINALG", backend)
    n = 6000  # near USPS's size: small factorizations under-use the cores
    rng = np.random.default_rng(0)
    H = rng.random((n, 300)).astype(dtype)
    G = H @ H.T
    rhs = np.ones((n, 10), dtype=dtype)
    benchmark.pedantic(ridge_solve, args=(G, rhs, 1.0), rounds=3, warmup_rounds=1)
    rate = n**3 / 3 / best_seconds(benchmark) / 1e9  # the solve's 2n²k is noise here
    record(benchmark, f"cholesky_{backend}_{dtype}_gflops", rate, "GFLOP/s")


def test_kernel_matrix(benchmark, usps):
    X = usps[0]
    benchmark.pedantic(gaussian_kernel, args=(X, X, 3.2), rounds=3, warmup_rounds=1)
    n, d = X.shape
    record(benchmark, "kernel_matrix_gflops", 2 * n * n * d / best_seconds(benchmark) / 1e9,
           "GFLOP/s")


def test_kelm_fit(benchmark, usps):
    X, y, X_test, y_test, source = usps
    model = KELMClassifier(**KELM_PARAMS)
    benchmark.pedantic(model.fit, args=(X, y), rounds=3, warmup_rounds=1)
    seconds = best_seconds(benchmark)
    n, d = X.shape
    flops = 2 * n * n * d + n**3 / 3 + 4 * n * n * len(np.unique(y))
    record(benchmark, "kelm_fit_s", seconds, "s")
    record(benchmark, "kelm_fit_gflops", flops / seconds / 1e9, "GFLOP/s")
    record(benchmark, "kelm_test_accuracy", model.score(X_test, y_test), f"on {source}")


def test_kernel_ridge_fit(benchmark, usps):
    """scikit-learn's KernelRidge with KELM's parameters: same model, same predictions."""
    X, y, X_test = usps[:3]
    targets = (y[:, None] == np.unique(y)[None, :]).astype(np.float64)
    ridge = KernelRidge(kernel="rbf", alpha=1 / KELM_PARAMS["C"],
                        gamma=1 / (2 * KELM_PARAMS["kernel_width"] ** 2))
    benchmark.pedantic(ridge.fit, args=(X, targets), rounds=2, warmup_rounds=0)
    record(benchmark, "kernel_ridge_fit_s", best_seconds(benchmark), "s")
    kelm = KELMClassifier(**KELM_PARAMS).fit(X, y)
    ridge_labels = np.unique(y)[ridge.predict(X_test).argmax(axis=1)]
    agreement = np.mean(ridge_labels == kelm.predict(X_test))
    record(benchmark, "kelm_vs_kernel_ridge_agreement", agreement, "fraction")
    assert agreement >= 0.998  # float32 KELM vs float64 KernelRidge


def test_kelm_select_4x4(benchmark, usps):
    X, y = usps[0], usps[1]
    spec = load_catalog().algorithm("KELM")
    X_fit, X_val, y_fit, y_val = validation_split(X, y, seed=0)
    grid = {"kernel_width": [1.6, 2.24, 3.2, 4.48], "C": [1.0, 10.0, 100.0, 1000.0]}
    candidates = list(ParameterGrid(grid))
    benchmark.pedantic(validation_accuracies, args=(spec, X_fit, y_fit, X_val, y_val, grid,
                                               candidates, {}, 0), rounds=1)
    record(benchmark, "kelm_select_4x4_s", best_seconds(benchmark), "s")


@pytest.fixture(scope="module")
def selection_kernel(usps):
    """The kernel matrix one width of the 4x4 selection factors (80 % of USPS)."""
    X_fit = validation_split(usps[0], usps[1], seed=0)[0].astype(np.float32)
    K = gaussian_kernel(X_fit, X_fit, 3.2)
    K[np.diag_indices_from(K)] += 1e-2  # C = 100
    return K


@pytest.mark.parametrize("method", ["cholesky", "eigh"])
def test_selection_factorization(benchmark, selection_kernel, method):
    """Why selection factors once per C: sharing one eigendecomposition per
    width across the 4 C would have to cost less than 4 Choleskys."""
    if method == "cholesky":
        def factor():
            return scipy.linalg.cho_factor(selection_kernel, lower=True, check_finite=False)
    else:  # LAPACK syevd, the fastest of scipy's drivers here
        def factor():
            return scipy.linalg.eigh(selection_kernel, driver="evd", check_finite=False)
    benchmark.pedantic(factor, rounds=1 if method == "eigh" else 3, warmup_rounds=0)
    record(benchmark, f"selection_{method}_s", best_seconds(benchmark), "s")


@pytest.mark.parametrize("estimator", [ELMClassifier, RELMClassifier])
def test_elm_family_fit_4000(benchmark, usps, estimator):
    X, y, X_test, y_test, source = usps
    model = estimator(n_hidden=N_HIDDEN, random_state=0)
    benchmark.pedantic(model.fit, args=(X, y), rounds=2, warmup_rounds=0)
    name = estimator.__name__.removesuffix("Classifier").lower()
    record(benchmark, f"{name}_fit_s", best_seconds(benchmark), "s")
    record(benchmark, f"{name}_test_accuracy", model.score(X_test, y_test), f"on {source}")


def test_hpelm_fit_4000(benchmark, usps):
    """hpelm's ELM with the same L and ridge (its ``norm`` is our 1/C), float32."""
    hpelm = pytest.importorskip("hpelm")
    X, y, X_test, y_test, source = usps
    targets = (y[:, None] == np.unique(y)[None, :]).astype(np.float32)

    def fit():
        model = hpelm.ELM(X.shape[1], targets.shape[1], precision="single", norm=1.0)
        model.add_neurons(N_HIDDEN, "sigm")
        model.train(X, targets, "c")
        return model

    model = benchmark.pedantic(fit, rounds=2, warmup_rounds=0)
    record(benchmark, "hpelm_fit_s", best_seconds(benchmark), "s")
    accuracy = np.mean(model.predict(X_test).argmax(axis=1) == y_test)
    record(benchmark, "hpelm_test_accuracy", accuracy, f"on {source}")


# scikit-elm warns that 4,000 neurons exceed USPS's 256 features: it knows.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataDimensionalityWarning")
def test_scikit_elm_fit_4000(benchmark, usps):
    skelm = pytest.importorskip("skelm")
    X, y, X_test, y_test, source = usps
    model = skelm.ELMClassifier(n_neurons=N_HIDDEN, alpha=1.0, random_state=0)
    benchmark.pedantic(model.fit, args=(X, y), rounds=2, warmup_rounds=0)
    record(benchmark, "scikit_elm_fit_s", best_seconds(benchmark), "s")
    record(benchmark, "scikit_elm_test_accuracy", model.score(X_test, y_test),
           f"on {source}")


def _cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(not _cuda_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("estimator", ["KELM", "RELM", "ELM"])
def test_gpu_fit(benchmark, usps, estimator):
    """The ELM family with device="cuda" on USPS (issue 5: run once where a GPU
    is lent, report the figures beside the CPU ones of the same session)."""
    X, y, X_test, y_test, source = usps
    model = {"KELM": KELMClassifier(**KELM_PARAMS, device="cuda"),
             "RELM": RELMClassifier(n_hidden=N_HIDDEN, random_state=0, device="cuda"),
             "ELM": ELMClassifier(n_hidden=N_HIDDEN, random_state=0, device="cuda"),
             }[estimator]
    benchmark.pedantic(model.fit, args=(X, y), rounds=3, warmup_rounds=1)
    record(benchmark, f"gpu_{estimator.lower()}_fit_s", best_seconds(benchmark), "s")
    record(benchmark, f"gpu_{estimator.lower()}_test_accuracy", model.score(X_test, y_test),
           f"on {source}")
