"""One training epoch of layer 1 on a fixed 6,000 × 784 input, per regularizer.

Run with ``tox -e bench`` (or ``pytest tests/benchmarks -m bench --benchmark-enable
--benchmark-only``). Targets
(issue 4): DDAE per-sample epoch ≤ 4× the plain AE epoch, per-batch ≤ 1.3×.
Each case uses the plugin's own default layer-1 settings. Torch threads are
fixed (``BENCHBASE_BENCH_THREADS``, default 1) so that the ratios do not
depend on how busy a shared machine's other cores are.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from .conftest import best_seconds, record

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.bench

from benchbase.plugins import load_catalog  # noqa: E402
from benchbase.trial.estimator import make_estimator  # noqa: E402
from benchbase_ae import _engine  # noqa: E402

N_SAMPLES, N_FEATURES = 6000, 784


def _registered(name, **params):
    """The algorithm as registered (its defaults), with ``params`` fixed."""
    return make_estimator(load_catalog().algorithm(name), params, seed=0)


CASES = {
    "AE": _registered("AE"),
    "SAE": _registered("SAE"),
    "DAE": _registered("DAE"),
    "DDAE-sample": _registered("DDAE", mask="sample"),
    "DDAE-batch": _registered("DDAE", mask="batch"),
}


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(0)
    return torch.from_numpy(rng.random((N_SAMPLES, N_FEATURES), dtype=np.float32))


@pytest.fixture(scope="module", autouse=True)
def fixed_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(int(os.environ.get("BENCHBASE_BENCH_THREADS", "1")))
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", list(CASES))
def test_layer1_epoch(benchmark, inputs, name):
    est = CASES[name]
    reg = est._regularizers(_engine)[0]
    sgd = _engine.SGDConfig(est.learning_rate, est.momentum, est.batch_size, 1)
    benchmark.group = "layer-1 epoch, 6000x784"
    benchmark.extra_info.update(n_hidden1=est.n_hidden1, batch_size=est.batch_size,
                                threads=torch.get_num_threads())

    def epoch():
        with torch.no_grad():
            return _engine.train_layer(inputs, est.n_hidden1, reg, sgd,
                                       np.random.RandomState(0))

    # The warm-up round keeps one-off costs (Numba loading its kernels) out.
    _, history = benchmark.pedantic(epoch, rounds=3, iterations=1, warmup_rounds=1)
    assert history.shape == (1,) and np.isfinite(history[0])
    record(benchmark, f"ae_epoch_{name}_s", best_seconds(benchmark), "s")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", ["AE", "DDAE-sample", "DDAE-batch"])
def test_layer1_epoch_on_cuda(benchmark, inputs, name):
    est = CASES[name]
    reg = est._regularizers(_engine)[0]
    sgd = _engine.SGDConfig(est.learning_rate, est.momentum, est.batch_size, 1)
    benchmark.group = "layer-1 epoch on CUDA, 6000x784"
    X = inputs.to("cuda")

    def epoch():
        with torch.no_grad():
            result = _engine.train_layer(X, est.n_hidden1, reg, sgd, np.random.RandomState(0))
        torch.cuda.synchronize()
        return result

    _, history = benchmark.pedantic(epoch, rounds=3, iterations=1, warmup_rounds=1)
    assert np.isfinite(history[0])
    record(benchmark, f"gpu_ae_epoch_{name}_s", best_seconds(benchmark), "s")
