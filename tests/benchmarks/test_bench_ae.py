"""Autoencoder training speed on a fixed 6,000 × 784 input.

Run with ``tox -e bench`` (or ``pytest tests/benchmarks -m bench --benchmark-enable
--benchmark-only``). Targets:

* issue 4: DDAE per-sample epoch ≤ 4× the plain AE epoch, per-batch ≤ 1.3×;
* issue 23: the dense training step at ≥ 60 % of torch's sgemm FLOP rate on
  the step's own GEMM shapes; a per-sample DDAE fit ≤ 1.5× the AE fit at
  keep_prob 0.5 and ≤ 1.8× at 0.75 and 0.9 (same data, same epochs).

Each case uses the plugin's own default settings. Torch threads are fixed
(``BENCHBASE_BENCH_THREADS``, default 1) so that the ratios do not depend on
how busy a shared machine's other cores are.
"""

from __future__ import annotations

import os
import time

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
    _, history, encoder = benchmark.pedantic(epoch, rounds=3, iterations=1, warmup_rounds=1)
    assert history.shape == (1,) and np.isfinite(history[0])
    benchmark.extra_info["encoder"] = encoder
    record(benchmark, f"ae_epoch_{name}_s", best_seconds(benchmark), "s")


#: The paper's two layers at its mini-batch size: (batch, inputs, hidden units).
STEP_SHAPES = {"784-500": (100, 784, 500), "500-500": (100, 500, 500)}


def _step_flops(n, n_in, n_out):
    """Five GEMMs of 2·n·in·out each: encode, decode, the decoder's ∂W,
    ∂y = err Wᵀ, the encoder's ∂W."""
    return 5 * 2 * n * n_in * n_out


@pytest.mark.parametrize("shape", list(STEP_SHAPES))
def test_dense_step_gflops(benchmark, shape):
    n, n_in, n_out = STEP_SHAPES[shape]
    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.random((n, n_in), dtype=np.float32))
    reg = CASES["AE"]._regularizers(_engine)[0]
    source = _engine.RandomSource(0, torch.device("cpu"))
    layer = _engine.new_layer(n_in, n_out, np.random.RandomState(0), torch.device("cpu"))
    trainer = _engine.LayerTrainer(layer, reg, _engine.make_encoder(reg, source), source, n)
    benchmark.group = "dense training step vs its GEMMs"
    benchmark.name = f"step {shape}"

    def steps():
        with torch.no_grad():
            for _ in range(20):
                trainer.step(X, 1e-3, 0.9)

    benchmark.pedantic(steps, rounds=15, iterations=1, warmup_rounds=2)
    record(benchmark, f"ae_step_{shape}_gflops",
           20 * _step_flops(n, n_in, n_out) / best_seconds(benchmark) / 1e9, "GFLOP/s")


@pytest.mark.parametrize("shape", list(STEP_SHAPES))
def test_sgemm_on_the_step_shapes_gflops(benchmark, shape):
    """The same five GEMMs, torch alone: the rate the step is measured against."""
    n, n_in, n_out = STEP_SHAPES[shape]
    rng = np.random.default_rng(0)

    def rand(*dims):
        return torch.from_numpy(rng.random(dims, dtype=np.float32))

    x, W, y, err, delta = rand(n, n_in), rand(n_out, n_in), rand(n, n_out), rand(n, n_in), \
        rand(n, n_out)
    out_y, out_u, out_g, vW = rand(n, n_out), rand(n, n_in), rand(n, n_out), rand(n_out, n_in)
    benchmark.group = "dense training step vs its GEMMs"
    benchmark.name = f"sgemm {shape}"

    def gemms():
        for _ in range(20):
            torch.mm(x, W.T, out=out_y)
            torch.mm(y, W, out=out_u)
            vW.addmm_(y.T, err)
            torch.mm(err, W.T, out=out_g)
            vW.addmm_(delta.T, x)

    benchmark.pedantic(gemms, rounds=15, iterations=1, warmup_rounds=2)
    record(benchmark, f"sgemm_{shape}_gflops",
           20 * _step_flops(n, n_in, n_out) / best_seconds(benchmark) / 1e9, "GFLOP/s")


#: Fits compared by issue 23 (registered defaults; DDAE's keep_prob varied).
FIT_CASES = {
    "AE": ("AE", {}),
    "DDAE-sample-0.5": ("DDAE", {"mask": "sample", "keep_prob": 0.5}),
    "DDAE-sample-0.75": ("DDAE", {"mask": "sample", "keep_prob": 0.75}),
    "DDAE-sample-0.9": ("DDAE", {"mask": "sample", "keep_prob": 0.9}),
    "DDAE-batch": ("DDAE", {"mask": "batch"}),
}
FIT_ROUNDS = 3
def test_fits_interleaved(benchmark, inputs):
    """Whole fits (the KELM head included), as a trial runs them, in rounds
    that fit every case once: a shared machine's slow spells then hit all
    cases alike, and each case's fastest round is its time."""
    X = inputs.numpy()
    y = np.arange(len(X)) % 10
    threads = torch.get_num_threads()
    seconds = {case: [] for case in FIT_CASES}
    encoders = {}

    def rounds():
        for _ in range(FIT_ROUNDS):
            for case, (name, params) in FIT_CASES.items():
                est = _registered(name, **params, device="cpu", n_threads=threads)
                start = time.perf_counter()
                est.fit(X, y)
                seconds[case].append(time.perf_counter() - start)
                encoders[case] = est.fit_info_["encoders"][0]

    # A tiny fit first loads the kernels.
    _registered("DDAE", epochs=1, n_hidden1=8, n_hidden2=8).fit(X[:50], y[:50])
    benchmark.group = "fits, 6000x784, the registered epochs"
    benchmark.pedantic(rounds, rounds=1, iterations=1)
    benchmark.extra_info["encoders"] = encoders
    for case, times in seconds.items():
        record(benchmark, f"ae_fit_{case}_s", min(times), "s")


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
