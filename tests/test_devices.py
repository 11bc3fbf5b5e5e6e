"""The ELM family's ``device`` parameter: the torch code path and device names.

CI has no GPU, so the torch path is run here on CPU tensors (the device
resolution is redirected to torch's CPU device) and must give what the NumPy
path gives; the last test runs the real CUDA path where a GPU exists.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from benchbase.numerics import devices, linalg
from benchbase_elm import _base
from benchbase_elm.elm import ELMClassifier, score_elm_grid
from benchbase_elm.kelm import KELMClassifier, score_kelm_grid
from benchbase_elm.relm import RELMClassifier, score_relm_grid

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:600], y[:600], X[600:900], y[600:900]


@pytest.fixture
def torch_on_cpu(monkeypatch):
    """device="cuda" runs the torch path on CPU tensors."""
    def resolve(device):
        devices.check_device(device)
        return None if device == "cpu" else torch.device("cpu")

    monkeypatch.setattr(_base, "resolve_device", resolve)


def test_device_names():
    assert devices.resolve_device("cpu") is None
    with pytest.raises(ValueError, match=r"device must be one of .* got 'gpu'"):
        devices.resolve_device("gpu")
    with pytest.raises(ValueError, match="device must be one of"):
        ELMClassifier(device="tpu").fit(np.eye(3), [0, 1, 1])
    if not torch.cuda.is_available():
        assert devices.resolve_device("auto") is None
        with pytest.raises(ValueError, match="no CUDA device"):
            KELMClassifier(device="cuda").fit(np.eye(3), [0, 1, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linalg_gives_the_same_on_tensors(dtype):
    rs = np.random.RandomState(0)
    A, B = rs.rand(300, 20).astype(dtype), rs.rand(70, 20).astype(dtype)
    T = rs.rand(300, 4).astype(dtype)
    tA, tB, tT = (torch.from_numpy(a) for a in (A, B, T))
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(linalg.squared_distances(tA, tB).numpy(),
                               linalg.squared_distances(A, B), rtol=rtol, atol=rtol)
    K = linalg.gaussian_kernel(A, A, 0.9)
    tK = linalg.gaussian_kernel(tA, tA, 0.9)
    np.testing.assert_allclose(tK.numpy(), K, rtol=rtol, atol=rtol)
    want = linalg.ridge_solve(K, T, 10.0)
    before = tK.clone()
    got = linalg.ridge_solve(tK, tT, 10.0)
    np.testing.assert_allclose(got.numpy(), want, rtol=100 * rtol, atol=100 * rtol)
    assert torch.equal(tK, before)  # overwrite=False leaves it alone
    G = np.zeros((20, 20), dtype=dtype, order="F")
    linalg.gram_accumulate(G, A)
    tG = torch.zeros(20, 20, dtype=tA.dtype)
    linalg.gram_accumulate(tG, tA)
    np.testing.assert_allclose(np.tril(tG.numpy()), np.tril(G), rtol=rtol)  # G: lower only
    np.testing.assert_allclose(linalg.least_squares(tA, tT).numpy(),
                               linalg.least_squares(A.copy(), T.copy()),
                               rtol=1e-3 if dtype == np.float32 else 1e-8, atol=1e-4)


def test_a_non_positive_definite_tensor_system_says_so():
    G = -torch.eye(4, dtype=torch.float64)
    with pytest.raises(np.linalg.LinAlgError, match=r"not positive definite at C=1\.0"):
        linalg.ridge_solve(G, torch.ones(4, 1, dtype=torch.float64), 1.0)


@pytest.mark.parametrize("estimator", [
    ELMClassifier(n_hidden=200, dtype="float64", random_state=0),
    RELMClassifier(n_hidden=200, C=10.0, solver="primal", dtype="float64", random_state=0),
    RELMClassifier(n_hidden=200, C=10.0, solver="dual", dtype="float64", random_state=0),
    KELMClassifier(C=10.0, kernel_width=2.0, dtype="float64"),
    KELMClassifier(C=10.0, kernel_width=2.0),
    KELMClassifier(C=10.0, kernel_width=2.0, dtype="float64", solver="nystrom", n_centers=100,
                   tol=1e-10),
    KELMClassifier(C=10.0, kernel_width=2.0, solver="nystrom", n_centers=100),
], ids=["ELM", "RELM-primal", "RELM-dual", "KELM", "KELM-float32", "Nystrom",
        "Nystrom-float32"])
def test_torch_path_fits_what_the_numpy_path_fits(digits, torch_on_cpu, estimator):
    X, y, X_test, _ = digits
    cpu = estimator.fit(X, y)
    want_scores, want_labels = cpu.decision_function(X_test), cpu.predict(X_test)
    on_torch = type(estimator)(**{**estimator.get_params(), "device": "cuda"}).fit(X, y)
    scores = on_torch.decision_function(X_test)
    assert isinstance(scores, np.ndarray) and scores.dtype == want_scores.dtype
    tol = 1e-6 if estimator.dtype == "float64" else 1e-4  # float32: rounding order
    if getattr(estimator, "solver", None) == "nystrom" and estimator.dtype == "float32":
        tol = 1e-3  # and CG stops at its tolerance, reached by another rounding path
    np.testing.assert_allclose(scores, want_scores, rtol=tol, atol=tol)
    if getattr(estimator, "solver", None) == "nystrom":
        assert on_torch.fit_info_["kernel_products"] == "torch row blocks (cpu)"
    assert np.mean(on_torch.predict(X_test) == want_labels) >= 0.99
    for name, value in vars(on_torch).items():
        assert not devices.is_torch(value), f"fitted attribute {name} is a tensor"


def test_torch_path_selects_what_the_numpy_path_selects(digits, torch_on_cpu):
    X, y, X_val, y_val = digits
    relm_grid = {"n_hidden": [50, 150, 400, 700], "C": [0.1, 10.0]}  # primal and dual
    kelm_grid = {"kernel_width": [1.0, 3.0], "C": [1.0, 100.0]}
    elm_grid = {"n_hidden": [50, 300]}
    data = dict(X_fit=X, y_fit=y, X_val=X_val, y_val=y_val, random_state=0)
    nystrom = {"solver": "nystrom", "n_centers": 100, "tol": 1e-10}
    for score_grid, grid, fixed in ((score_relm_grid, relm_grid, {}),
                                    (score_kelm_grid, kelm_grid, {}),
                                    (score_kelm_grid, kelm_grid, nystrom),
                                    (score_elm_grid, elm_grid, {})):
        want = score_grid(**data, grid=grid, fixed_params={"dtype": "float64", **fixed})
        got = score_grid(**data, grid=grid,
                         fixed_params={"dtype": "float64", "device": "cuda", **fixed})
        assert [point for point, _ in got] == [point for point, _ in want]
        for (_, predicted), (_, expected) in zip(got, want, strict=True):
            np.testing.assert_array_equal(predicted, expected)  # the same predictions


def test_nystrom_recomputing_its_kernel_runs_on_torch_too(digits, monkeypatch):
    # K_nM recomputed in row blocks at every CG iteration (when it does not
    # fit): the tensor path gives the NumPy path's products and solution.
    from benchbase_elm import nystrom

    monkeypatch.setattr(nystrom, "BLOCK_ROWS", 64)  # several blocks of the 600 rows
    X = digits[0]
    for kept in (0, 250):  # none kept, and the first 250 rows kept
        on_torch = nystrom.FalkonSystem(torch.from_numpy(X), torch.from_numpy(X[::6]), 2.0,
                                        kept_rows=kept)
        on_numpy = nystrom.FalkonSystem(X, X[::6], 2.0, kept_rows=kept)
        assert on_torch.products == "torch row blocks (cpu)"
        assert (on_torch.kernel is None) == (kept == 0)
        V = np.random.default_rng(0).normal(size=(100, 3))
        np.testing.assert_allclose(on_torch.kernel_products(V).numpy(),
                                   on_numpy.kernel_products(V), rtol=1e-10)
        Y = np.random.default_rng(1).normal(size=(600, 3))
        np.testing.assert_allclose(on_torch.solve(Y, 10.0, tol=1e-10)[0],
                                   on_numpy.solve(Y, 10.0, tol=1e-10)[0],
                                   rtol=1e-6, atol=1e-8)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("factory", [ELMClassifier, RELMClassifier, KELMClassifier])
def test_cuda_path_matches_the_cpu(digits, factory):
    X, y, X_test, _ = digits
    params = {"dtype": "float64"} | ({} if factory is KELMClassifier else
                                     {"n_hidden": 200, "random_state": 0})
    cpu = factory(**params).fit(X, y)
    gpu = factory(**params, device="cuda").fit(X, y)
    np.testing.assert_allclose(gpu.decision_function(X_test), cpu.decision_function(X_test),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_nystrom_runs_on_cuda(digits):
    X, y, X_test, _ = digits
    params = dict(C=10.0, kernel_width=2.0, solver="nystrom", n_centers=100, dtype="float64",
                  tol=1e-10)
    cpu = KELMClassifier(**params).fit(X, y)
    gpu = KELMClassifier(**params, device="cuda").fit(X, y)
    assert gpu.fit_info_["device"].startswith("cuda")
    assert gpu.fit_info_["kernel_products"].startswith("torch row blocks (cuda")
    np.testing.assert_allclose(gpu.decision_function(X_test), cpu.decision_function(X_test),
                               rtol=1e-6, atol=1e-6)
