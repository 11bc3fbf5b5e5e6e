"""The autoencoder engine: one tied layer, its hand-written gradients, the masks."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from benchbase_ae import _dropconnect  # noqa: E402
from benchbase_ae import _engine as engine  # noqa: E402

CPU = torch.device("cpu")


@pytest.fixture
def pixels():
    """Small 'images': digits scaled to [0, 1] (a real, structured input)."""
    from sklearn.datasets import load_digits

    return torch.from_numpy((load_digits().data[:300] / 16.0).astype(np.float32))


def _layer(n_in, n_out, seed=0):
    rs = np.random.RandomState(seed)
    return engine.TiedLayer(
        W=torch.from_numpy(engine.glorot_sigmoid_init(n_in, n_out, rs)),
        b=torch.from_numpy(rs.normal(0, 0.1, n_out).astype(np.float32)),
        c=torch.from_numpy(rs.normal(0, 0.1, n_in).astype(np.float32)),
    )


def _sample_masks(source, shape, p):
    """The per-sample masks ``SampleMaskEncoder`` draws on the CPU, as floats."""
    return torch.from_numpy(
        engine.unpack_bits(source.sample_masks(shape, p), shape[-1])).float()


def _trainer(layer, reg, source, rows=64):
    return engine.LayerTrainer(layer, reg, engine.make_encoder(reg, source), source, rows)


def _kl_and_gradients(layer, x, reg, source):
    """The trainer's mean KL on ``x`` and its gradients (the step's own arithmetic)."""
    bce, grads = _trainer(layer, reg, source, len(x)).gradients(x)
    return bce - engine.total_entropy(x) / len(x), grads


def _sparsity_penalty(rho, rho_hat):
    """Σ_j KL(ρ ‖ ρ̂_j), the SAE penalty whose gradient the engine writes by hand."""
    return (rho * torch.log(rho / rho_hat)
            + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()


def _reference(layer, x, reg, source):
    """Eq. (5) (+ sparsity) with autograd, drawing the same masks in the same
    order as ``LayerTrainer`` (noise first, then the DropConnect mask)."""
    W, b, c = (p.clone().requires_grad_(True) for p in (layer.W, layer.b, layer.c))
    x_in = x
    if reg.noise_level:
        x_in = x * source.bernoulli(tuple(x.shape), 1 - reg.noise_level)
    p = reg.keep_prob
    if p is None:
        a = x_in @ W.T
    elif reg.mask == "batch":
        a = x_in @ (W * source.bernoulli(tuple(W.shape), p)).T / p
    else:
        M = _sample_masks(source, (x.shape[0], *W.shape), p)
        a = torch.einsum("boi,oi,bi->bo", M, W, x_in) / p
    y = torch.sigmoid(a + b)
    z = torch.sigmoid(y @ W + c)
    # KL(x ‖ z) = x log(x/z) + (1-x) log((1-x)/(1-z)), split so that 0 log 0 = 0
    # stays out of the graph.
    neg_entropy = (torch.xlogy(x, x) + torch.xlogy(1 - x, 1 - x)).sum(1)
    cross = -(x * torch.log(z) + (1 - x) * torch.log(1 - z)).sum(1)
    kl = (cross + neg_entropy).mean()
    objective = kl
    if reg.sparsity_weight:
        rho_hat = y.mean(0)
        objective = kl + reg.sparsity_weight * _sparsity_penalty(
            reg.sparsity_target, rho_hat)
    objective.backward()
    return float(kl.detach()), [W.grad, b.grad, c.grad]


@pytest.mark.parametrize(
    "reg",
    [
        engine.LayerRegularizer(),
        engine.LayerRegularizer(sparsity_target=0.1, sparsity_weight=0.5),
        engine.LayerRegularizer(noise_level=0.3),
        engine.LayerRegularizer(keep_prob=0.6, mask="batch"),
        engine.LayerRegularizer(keep_prob=0.6, mask="sample"),
    ],
    ids=["AE", "SAE", "DAE", "DDAE-batch", "DDAE-sample"],
)
def test_hand_written_gradient_matches_autograd(pixels, reg):
    x = pixels[:40]
    layer = _layer(64, 30)
    kl, grads = _kl_and_gradients(layer, x, reg, engine.RandomSource(7, CPU))
    ref_kl, ref_grads = _reference(layer, x, reg, engine.RandomSource(7, CPU))
    assert kl == pytest.approx(ref_kl, rel=1e-4)
    for name, got, want in zip("Wbc", grads, ref_grads, strict=True):
        scale = float(want.abs().max())
        assert scale > 0
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4 * scale,
                                   msg=f"gradient of {name}")


def test_chunked_per_sample_pass_equals_the_dense_one(pixels):
    # With p = 1 every mask keeps everything: chunking must not change a thing.
    x = pixels[:50]
    layer = _layer(64, 20)
    src = engine.RandomSource(0, CPU)
    per_sample = engine.SampleMaskEncoder(1.0, src)
    chunk_mb = per_sample.mask_bytes_per_sample(20, 64) * 7 / 2**20
    chunked = engine.LayerRegularizer(keep_prob=1.0, mask="sample", mask_chunk_mb=chunk_mb)
    trainer = _trainer(layer, chunked, src, len(x))
    assert trainer.rows == 7
    want = _kl_and_gradients(layer, x, engine.LayerRegularizer(), src)
    got = _kl_and_gradients(layer, x, chunked, src)
    assert got[0] == pytest.approx(want[0], rel=1e-5)
    for g, w in zip(got[1], want[1], strict=True):
        torch.testing.assert_close(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mb", [0.05, 0.5, 3.0, 32.0])
def test_chunks_respect_the_memory_bound(mb):
    per_sample = 500 * 8 * 13  # packed bits of a 500 x 784 layer
    rows = engine.chunk_rows(per_sample, mb)
    assert rows >= 1
    assert rows == 1 or rows * per_sample <= mb * 2**20
    assert (rows + 1) * per_sample > mb * 2**20


@pytest.mark.parametrize("n_in", [50, 64, 130])
def test_fused_kernels_equal_the_tensor_path_on_the_same_masks(n_in):
    pytest.importorskip("numba")
    rs = np.random.RandomState(0)
    W = torch.from_numpy(rs.normal(size=(37, n_in)).astype(np.float32))
    x = torch.from_numpy(rs.uniform(size=(23, n_in)).astype(np.float32))
    delta = torch.from_numpy(rs.normal(size=(23, 37)).astype(np.float32))
    fused = engine.SampleMaskEncoder(0.6, engine.RandomSource(5, CPU))
    plain = engine.SampleMaskEncoder(0.6, engine.RandomSource(5, CPU))
    assert fused.fused
    plain.fused = False
    torch.testing.assert_close(_preact(fused, W, x), _preact(plain, W, x), rtol=1e-5,
                               atol=1e-5)
    torch.testing.assert_close(_weight_grad(fused, delta, x), _weight_grad(plain, delta, x),
                               rtol=1e-5, atol=1e-5)
    # ... and both equal the definition, on the masks a fresh source draws,
    # scaled by the p those masks realize (0.6 to 12 binary digits).
    M = _sample_masks(engine.RandomSource(5, CPU), (23, 37, n_in), 0.6)
    p = _dropconnect.realized_keep_prob(0.6)
    assert p == 2458 / 4096
    fresh = engine.SampleMaskEncoder(0.6, engine.RandomSource(5, CPU))
    torch.testing.assert_close(_preact(fresh, W, x),
                               torch.einsum("boi,oi,bi->bo", M, W, x) / p,
                               rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(_weight_grad(fresh, delta, x),
                               torch.einsum("bo,boi,bi->oi", delta, M, x) / p,
                               rtol=1e-5, atol=1e-5)


def _preact(encoder, W, x):
    return encoder.preact(W, x, torch.empty(x.shape[0], W.shape[0]))


def _weight_grad(encoder, delta, x):
    """The encoder's ∂W alone: what it adds to a zero momentum buffer at scale 1."""
    grad = torch.zeros(delta.shape[1], x.shape[1])
    encoder.add_weight_grad(grad, delta, x, 1.0)
    return grad


def _binomial_tolerance(p, n, sigmas=5.0):
    return sigmas * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("p", [0.5, 0.8, 0.3])
def test_sample_masks_keep_p_and_differ_between_samples(p):
    n_out, n_in, n = 40, 50, 30
    masks = _sample_masks(engine.RandomSource(1, CPU), (n, n_out, n_in), p)
    assert set(masks.unique().tolist()) <= {0.0, 1.0}
    assert float(masks.mean()) == pytest.approx(p, abs=_binomial_tolerance(
        p, masks.numel()))
    # Independent per sample: two samples disagree on a fraction 2p(1 - p).
    disagree = (masks[0] != masks[1]).float().mean()
    assert float(disagree) == pytest.approx(2 * p * (1 - p), abs=_binomial_tolerance(
        2 * p * (1 - p), n_out * n_in))
    assert all(not torch.equal(masks[i], masks[i + 1]) for i in range(n - 1))


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "tensor"])
def test_sample_mask_encoder_applies_one_mask_per_sample(fused):
    # One-hot inputs read single masked weights: a[b, o] = M[b, o, i_b] W[o, i_b] / p.
    if fused:
        pytest.importorskip("numba")
    p, n_out, n_in, n = 0.5, 40, 70, 200
    encoder = engine.SampleMaskEncoder(p, engine.RandomSource(4, CPU))
    encoder.fused = fused
    W = torch.ones(n_out, n_in)
    x = torch.zeros(n, n_in)
    x[:, 3] = 1.0
    kept = _preact(encoder, W, x) * p
    assert set(kept.unique().tolist()) == {0.0, 1.0}
    assert float(kept.mean()) == pytest.approx(p, abs=_binomial_tolerance(p, kept.numel()))
    assert all(not torch.equal(kept[i], kept[i + 1]) for i in range(n - 1))
    # The gradient sees the very masks the forward pass used.
    delta = torch.ones(n, n_out)
    grad = _weight_grad(encoder, delta, x) * p
    torch.testing.assert_close(grad[:, 3], kept.sum(0))
    assert float(grad.sum()) == float(kept.sum())


def test_batch_masks_are_shared_in_a_batch_and_differ_between_batches():
    p, n_out, n_in = 0.7, 60, 50
    encoder = engine.BatchMaskEncoder(p, engine.RandomSource(2, CPU))
    W = torch.randn(n_out, n_in)
    x = torch.rand(8, n_in)
    a = _preact(encoder, W, x)
    first = encoder.mask.clone()  # M / p: kept weights scaled up
    # Every sample of the batch saw the same masked weights.
    torch.testing.assert_close(a, x @ (first * W).T)
    realized = _dropconnect.realized_keep_prob(p)
    assert set((first * realized).unique().tolist()) <= {0.0, 1.0}
    assert float(first.mean() * realized) == pytest.approx(p, abs=_binomial_tolerance(
        p, first.numel()))
    _preact(encoder, W, x)
    assert not torch.equal(first, encoder.mask)


def test_inverted_dropconnect_matches_the_unmasked_preactivation_on_average():
    p, n_out, n_in, n = 0.5, 30, 40, 4000
    rs = np.random.RandomState(0)
    W = torch.from_numpy(rs.normal(size=(n_out, n_in)).astype(np.float32))
    x = torch.from_numpy(rs.uniform(size=n_in).astype(np.float32))
    encoder = engine.SampleMaskEncoder(p, engine.RandomSource(3, CPU))
    a = _preact(encoder, W, x.expand(n, n_in).contiguous())
    # Var of one sample's masked pre-activation: Σ_i W²x² (1 - p) / p.
    std_of_mean = torch.sqrt((W**2 * x**2).sum(1) * (1 - p) / p / n)
    assert (torch.abs(a.mean(0) - W @ x) < 5 * std_of_mean).all()


def _train(X, reg, epochs=8, n_hidden=32, seed=0):
    sgd = engine.SGDConfig(learning_rate=0.05, momentum=0.9, batch_size=20,
                           epochs=epochs)
    with torch.no_grad():
        layer, history, _ = engine.train_layer(X, n_hidden, reg, sgd,
                                               np.random.RandomState(seed))
    return layer, history


@pytest.mark.parametrize(
    "reg",
    [
        engine.LayerRegularizer(),
        engine.LayerRegularizer(sparsity_weight=0.5),
        engine.LayerRegularizer(noise_level=0.25),
        engine.LayerRegularizer(keep_prob=0.5, mask="batch"),
        engine.LayerRegularizer(keep_prob=0.5, mask="sample"),
    ],
    ids=["AE", "SAE", "DAE", "DDAE-batch", "DDAE-sample"],
)
def test_training_lowers_the_loss(pixels, reg):
    _, history = _train(pixels, reg)
    assert history.shape == (8,)
    assert np.all(np.isfinite(history))
    assert history[-1] < 0.8 * history[0]
    assert history[-1] < history[:2].min()


def test_sparsity_penalty_lowers_mean_activation(pixels):
    plain, _ = _train(pixels, engine.LayerRegularizer())
    sparse, _ = _train(pixels, engine.LayerRegularizer(sparsity_target=0.05,
                                                       sparsity_weight=1.0))
    with torch.no_grad():
        plain_mean = float(plain.encode(pixels).mean())
        sparse_mean = float(sparse.encode(pixels).mean())
    assert sparse_mean < 0.75 * plain_mean


def test_training_is_deterministic_for_a_seed(pixels):
    reg = engine.LayerRegularizer(keep_prob=0.5, noise_level=0.1)
    (a, ha), (b, hb), (c, _) = (_train(pixels, reg, epochs=2, seed=s)
                                for s in (4, 4, 5))
    assert torch.equal(a.W, b.W) and torch.equal(a.b, b.b) and np.array_equal(ha, hb)
    assert not torch.equal(a.W, c.W)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"noise_level": 1.0}, "noise_level"),
        ({"noise_level": -0.1}, "noise_level"),
        ({"sparsity_target": 0.0}, "sparsity_target"),
        ({"sparsity_weight": -1.0}, "sparsity_weight"),
        ({"keep_prob": 0.0}, "keep_prob"),
        ({"keep_prob": 1.5}, "keep_prob"),
        ({"keep_prob": 1e-5}, "keep_prob"),  # below the masks' resolution
        ({"keep_prob": 0.5, "mask": "row"}, "mask"),
        ({"keep_prob": 0.5, "mask_chunk_mb": 0}, "mask_chunk_mb"),
        ({"keep_prob": 0.5, "sparsity_weight": 1.0}, "sparsity_weight"),
    ],
)
def test_invalid_regularizers_raise_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        engine.LayerRegularizer(**kwargs)


@pytest.mark.parametrize("p", [2.0**-20, 1.0])
def test_masks_at_the_ends_of_the_probability_range(p):
    # p below 2⁻¹³ rounds to 0 (nothing kept), p = 1 keeps everything.
    mask = engine.RandomSource(0, CPU).bernoulli((30, 40), p)
    assert torch.equal(mask, torch.full((30, 40), float(round(p))))


def test_kernels_compile_where_no_cache_folder_is_writable(monkeypatch):
    numba = pytest.importorskip("numba")

    real_njit = numba.njit

    def njit(*args, cache=False, **options):
        if cache:
            raise RuntimeError("cannot cache function '_preact': no locator available")
        return real_njit(*args, **options)

    monkeypatch.setattr(numba, "njit", njit)
    preact = _dropconnect._compile(_dropconnect._preact.py_func)
    W, x = np.ones((3, 70), np.float32), np.ones((6, 70), np.float32)
    bits = np.full((6, 3, 2), np.uint64(2**64 - 1))  # keep every weight
    out = np.empty((6, 3), np.float32)
    preact(W, x, bits.view(np.uint16), out)
    np.testing.assert_array_equal(out, np.full((6, 3), 70.0))


@pytest.mark.parametrize("n_in", [1, 63, 64, 130, 784])
@pytest.mark.parametrize("p", [0.5, 0.75, 0.9, 0.3, 2.0**-20, 1.0])
def test_the_numba_and_numpy_draws_give_the_same_mask_bits(n_in, p):
    numba = pytest.importorskip("numba")

    rows = 37
    numpy_bits = _dropconnect.draw_masks_numpy(2024, rows, n_in, p)
    assert numpy_bits.shape == (rows, -(-n_in // 64))
    for threads in (1, 2):
        if threads <= numba.config.NUMBA_NUM_THREADS:  # the same for any thread count
            np.testing.assert_array_equal(
                _dropconnect.draw_masks(2024, rows, n_in, p, threads), numpy_bits)


@pytest.mark.parametrize("p", [0.5, 0.75, 0.9])
def test_counter_based_masks_keep_p_independently_of_position(p):

    n_in, rows = 784, 2000
    bits = _dropconnect.draw_masks_numpy(99, rows, n_in, p)
    keep = engine.unpack_bits(bits, n_in).astype(float)
    assert keep.mean() == pytest.approx(p, abs=_binomial_tolerance(p, keep.size))
    # No position is favoured: every 64-bit lane's column keeps p ...
    lanes = keep[:, :768].reshape(rows * 12, 64).mean(0)
    assert np.abs(lanes - p).max() < 5 * math.sqrt(p * (1 - p) / (rows * 12))
    # ... and neighbouring weights, rows and bit-planes' lanes are independent:
    # two of them agree as often as independent Bernoulli(p) do.
    agree = p * p + (1 - p) * (1 - p)
    for a, b in [(keep[:, :-1], keep[:, 1:]), (keep[:-1], keep[1:]),
                 (keep[:, :-32], keep[:, 32:])]:
        assert (a == b).mean() == pytest.approx(agree, abs=_binomial_tolerance(agree, a.size))
    # A different key draws other masks.
    other = engine.unpack_bits(_dropconnect.draw_masks_numpy(100, rows, n_in, p), n_in)
    assert (keep != other).mean() == pytest.approx(2 * p * (1 - p), abs=0.01)


def test_the_trainer_says_which_encoder_ran():
    pytest.importorskip("numba")

    X = torch.rand(60, 20)
    sgd = engine.SGDConfig(batch_size=20, epochs=1)
    names = [engine.train_layer(X, 8, reg, sgd, np.random.RandomState(0))[2]
             for reg in (engine.LayerRegularizer(),
                         engine.LayerRegularizer(keep_prob=0.5, mask="batch"),
                         engine.LayerRegularizer(keep_prob=0.5, mask="sample"))]
    assert names == ["dense", "per-batch masks",
                     f"per-sample masks, {_dropconnect.kernel_name()}"]
    assert re.fullmatch(r"numba 16-lane masked \((AVX-512|AVX2|SSE), \S+\)",
                        _dropconnect.kernel_name())


@pytest.mark.parametrize("target, features, simd", [
    ("haswell", "+avx,+avx2,+fma", "AVX2"), ("skylake-avx512", "+avx2,+avx512f", "AVX-512"),
    ("znver4", "+avx2,-avx512f", "AVX2"), ("generic", "", "SSE")])
def test_a_kernel_compiled_for_a_named_cpu_is_named_by_it(monkeypatch, target, features,
                                                            simd):
    # NUMBA_CPU_NAME=haswell with NUMBA_CPU_FEATURES runs the AVX2 kernel on an
    # AVX-512 machine: the row's fit_info must then say AVX2, not the host's unit.
    numba = pytest.importorskip("numba")
    monkeypatch.setattr(numba.config, "CPU_NAME", target)
    monkeypatch.setattr(numba.config, "CPU_FEATURES", features)
    assert _dropconnect.kernel_name() == (
        f"numba 16-lane masked ({simd}, {target}, as NUMBA_CPU_NAME and NUMBA_CPU_FEATURES set)")


def test_a_named_cpu_without_features_compiles_for_the_hosts(monkeypatch):
    # Numba takes the host's features when NUMBA_CPU_FEATURES is unset, whatever
    # NUMBA_CPU_NAME says: the name must report the host's vector unit then.
    numba = pytest.importorskip("numba")
    host = _dropconnect.kernel_name()
    monkeypatch.setattr(numba.config, "CPU_NAME", "haswell")
    monkeypatch.setattr(numba.config, "CPU_FEATURES", None)
    assert _dropconnect.kernel_name().split(",")[0] == host.split(",")[0]
