"""The stacked-autoencoder engine (PyTorch): one tied-weight layer, four regularizers.

Imported only when an autoencoder is trained, so that the plugin modules load
without torch. Notation follows the paper (NOTES.md §3): a layer maps x (in) to
y = s(W x + b) (out) and reconstructs z = s(Wᵀ y + c) with the *same* W (tied
weights, eq. 4); s is the logistic sigmoid; the loss is eq. (5),
KL(x ‖ z) summed over pixels.

Gradients are written by hand (checked against autograd in the tests): the
per-sample DropConnect encoder needs its own backward pass anyway, and a
hand-written step lets all four regularizers share one code path. With
u = Wᵀ y + c the decoder pre-activation, ∂KL/∂u = z − x (the BCE gradient:
KL and BCE differ by the entropy of x, a constant).

Optimizer: mini-batch SGD with classical momentum, v ← μ v − η g, θ ← θ + v,
where g is the gradient of the mean per-sample loss over the mini-batch.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import torch

from benchbase_ae import _dropconnect

MASK_MODES = ("sample", "batch")
#: The smallest keep probability a mask can realize (one step of its digits).
MIN_KEEP_PROB = 2.0 ** -_dropconnect.DIGITS


@dataclasses.dataclass(frozen=True)
class LayerRegularizer:
    """How one layer is regularized while it is trained (never at inference).

    Attributes:
        noise_level: masking noise (DAE): each input is zeroed with this
            probability; the target stays the clean input.
        sparsity_target: ρ of the sparsity penalty (SAE).
        sparsity_weight: β; the penalty is β Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j the mean
            activation of hidden unit j over the mini-batch. 0 disables it.
        keep_prob: DropConnect (DDAE): each encoder weight is kept with
            probability p (eq. 2) and the kept ones are scaled by 1/p ("inverted"
            DropConnect), so the pre-activation's expectation equals the
            unmasked W x + b used at inference (eq. 7). None disables it.
        mask: "sample" draws a fresh mask for every sample (the paper's);
            "batch" one mask per mini-batch.
        mask_chunk_mb: memory bound of the per-sample masks: samples are
            processed in chunks whose masks take at most this many MiB.
    """

    noise_level: float = 0.0
    sparsity_target: float = 0.05
    sparsity_weight: float = 0.0
    keep_prob: float | None = None
    mask: str = "sample"
    mask_chunk_mb: float = 32.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.noise_level < 1.0:
            raise ValueError(f"noise_level must be in [0, 1), got {self.noise_level!r}")
        if not 0.0 < self.sparsity_target < 1.0:
            raise ValueError(
                f"sparsity_target must be in (0, 1), got {self.sparsity_target!r}"
            )
        if not self.sparsity_weight >= 0.0:
            raise ValueError(
                f"sparsity_weight must be >= 0, got {self.sparsity_weight!r}"
            )
        if self.keep_prob is not None and not MIN_KEEP_PROB <= self.keep_prob <= 1.0:
            raise ValueError(f"keep_prob must be in [2**-{_dropconnect.DIGITS}, 1] (masks "
                             f"realize it in steps of 2**-{_dropconnect.DIGITS}), got "
                             f"{self.keep_prob!r}")
        if self.mask not in MASK_MODES:
            raise ValueError(f"mask must be one of {MASK_MODES}, got {self.mask!r}")
        if not self.mask_chunk_mb > 0:
            raise ValueError(f"mask_chunk_mb must be > 0, got {self.mask_chunk_mb!r}")
        if self.per_sample_mask and self.sparsity_weight > 0:
            # The sparsity gradient needs the whole mini-batch's mean activation,
            # which the chunked per-sample pass never holds at once.
            raise ValueError(
                "sparsity_weight > 0 cannot be combined with mask='sample' DropConnect"
            )

    @property
    def per_sample_mask(self) -> bool:
        return self.keep_prob is not None and self.mask == "sample"


@dataclasses.dataclass(frozen=True)
class SGDConfig:
    """Mini-batch SGD with classical momentum (module docstring)."""

    learning_rate: float = 0.1
    momentum: float = 0.9
    batch_size: int = 100
    epochs: int = 20


class RandomSource:
    """Seeded randomness on the training device: masking noise, per-batch masks,
    and the keys of the per-sample masks.

    On CPU the noise and per-batch mask bits come from NumPy's SFC64 generator
    (about 3x faster than torch's CPU generator for this volume of bits), and
    per-sample masks from the counter-based generator of ``_dropconnect``
    (``sample_masks``), each call keyed by a word of the same SFC64 stream; on
    CUDA everything comes from a torch generator on the GPU. Either way the same
    seed gives the same masks.
    """

    def __init__(self, seed: int, device: torch.device) -> None:
        self.device = device
        if device.type == "cpu":
            self._np = np.random.Generator(np.random.SFC64(seed))
        else:
            self._torch = torch.Generator(device=device)
            self._torch.manual_seed(seed)

    def _bitplane_words(self, words: int, keep_prob: float) -> np.ndarray:
        """``words`` uint64 whose bits are 1 with probability ``keep_prob``
        (rounded to ``_dropconnect.DIGITS`` binary digits).

        Bit-sliced comparison u < p of a uniform u = 0.u₁u₂…, 64 samples per
        word, using only as many random bit-planes as p has binary digits: p =
        0.5 costs one random bit per sample instead of 16.
        """
        digits, depth = _dropconnect.plan_bits(keep_prob)
        if depth == 0:  # p rounds to 0 or 1: nothing to draw
            return np.full(words, np.uint64(0 if digits == 0 else 2**64 - 1))
        less = np.zeros(words, dtype=np.uint64)
        equal = np.full(words, np.uint64(2**64 - 1))
        for i in range(depth):
            plane = self._np.integers(0, 2**64 - 1, size=words, dtype=np.uint64,
                                      endpoint=True)
            if (digits >> (_dropconnect.DIGITS - 1 - i)) & 1:  # u's digit 0 wins
                less |= equal & ~plane
                equal &= plane
            else:
                equal &= ~plane
        return less

    def sample_masks(self, shape: tuple[int, int, int], keep_prob: float,
                     n_threads: int = 1) -> np.ndarray:
        """Per-sample Bernoulli(keep_prob) bits for weights of ``shape`` (samples,
        out, in), packed along ``in`` (``_dropconnect.draw_masks``; CPU only):
        uint64 of shape (samples, out, ⌈in/64⌉)."""
        key = int(self._np.integers(0, 2**32, dtype=np.uint64))
        n, n_out, n_in = shape
        if _dropconnect.available():
            bits = _dropconnect.draw_masks(key, n * n_out, n_in, keep_prob, n_threads)
        else:
            bits = _dropconnect.draw_masks_numpy(key, n * n_out, n_in, keep_prob)
        return bits.reshape(n, n_out, -1)

    def bernoulli(self, shape: tuple[int, ...], keep_prob: float,
                  out: torch.Tensor | None = None,
                  times: torch.Tensor | None = None) -> torch.Tensor:
        """A float32 mask of 1s (probability ``keep_prob``) and 0s, multiplied
        by ``times`` (broadcast) when given, written into ``out`` if given."""
        numel = math.prod(shape)
        if out is None:
            out = torch.empty(shape, dtype=torch.float32, device=self.device)
        if self.device.type == "cpu":
            # NumPy's bit unpacking and bool->float copy are ~2x faster than
            # torch's CPU compare.
            keep = unpack_bits(self._bitplane_words(-(-numel // 64), keep_prob),
                               numel).reshape(shape)
            if times is None:
                np.copyto(out.numpy(), keep)
            else:  # one pass instead of copy-then-multiply
                np.multiply(keep, times.numpy(), out=out.numpy())
            return out
        # u < p for a 16-bit u, p rounded as on the CPU: u < digits · 2^(16 − DIGITS).
        threshold = (round(keep_prob * 2**_dropconnect.DIGITS) << (16 - _dropconnect.DIGITS)
                     ) - 2**15
        bits = torch.randint(-(2**15), 2**15, shape, dtype=torch.int16,
                             device=self.device, generator=self._torch)
        torch.lt(bits, threshold, out=out)
        return out if times is None else out.mul_(times)


def unpack_bits(packed: np.ndarray, n: int) -> np.ndarray:
    """uint8 0/1 of the first ``n`` bits of each row of ``packed`` (the last
    axis, uint64 words; bit t of word j is element 64 j + t)."""
    as_bytes = packed.view(np.uint8)  # little-endian words: byte k holds bits 8k..
    return np.unpackbits(as_bytes, axis=-1, count=n, bitorder="little")


def glorot_sigmoid_init(n_in: int, n_out: int, random_state: np.random.RandomState
                        ) -> np.ndarray:
    """W ~ U(±4 √(6 / (n_in + n_out))), the sigmoid variant of Glorot & Bengio."""
    bound = 4.0 * math.sqrt(6.0 / (n_in + n_out))
    return random_state.uniform(-bound, bound, size=(n_out, n_in)).astype(np.float32)


# --- encoders: how the layer computes W x during training, and ∂/∂W of it ------
#
# ``preact(W, x, out)`` writes the pre-activation (without the bias) into ``out``;
# ``add_weight_grad(velocity, delta, x, scale)`` adds ``scale`` × ∂(Σ_b a_b·δ_b)/∂W
# to ``velocity`` (the encoder's share of the weight gradient, folded straight
# into the momentum buffer: no gradient array per batch).


class DenseEncoder:
    """No DropConnect: a = x Wᵀ."""

    name = "dense"

    def preact(self, W: torch.Tensor, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return torch.mm(x, W.T, out=out)

    def add_weight_grad(self, velocity: torch.Tensor, delta: torch.Tensor,
                        x: torch.Tensor, scale: float) -> None:
        velocity.addmm_(delta.T, x, alpha=scale)


class BatchMaskEncoder:
    """DropConnect with one mask M for the whole mini-batch: a = x (M∘W)ᵀ / p."""

    name = "per-batch masks"

    def __init__(self, keep_prob: float, source: RandomSource) -> None:
        self.keep_prob = keep_prob
        self.source = source
        self.mask: torch.Tensor | None = None  # M / p: kept weights scaled by 1/p
        self._masked: torch.Tensor | None = None
        self._grad: torch.Tensor | None = None

    def preact(self, W: torch.Tensor, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        if self._masked is None:
            self._masked, self._grad = torch.empty_like(W), torch.empty_like(W)
        self.mask = self.source.bernoulli(tuple(W.shape), self.keep_prob).div_(
            _dropconnect.realized_keep_prob(self.keep_prob))
        return torch.mm(x, torch.mul(W, self.mask, out=self._masked).T, out=out)

    def add_weight_grad(self, velocity: torch.Tensor, delta: torch.Tensor,
                        x: torch.Tensor, scale: float) -> None:
        velocity.addcmul_(torch.mm(delta.T, x, out=self._grad), self.mask, value=scale)


class SampleMaskEncoder:
    """DropConnect with a fresh mask M_b for every sample: a_b = (M_b∘W) x_b / p.

    Per (sample, weight) work is unavoidable, so the goal is few passes over
    it. On the CPU with Numba (the ``ae`` extra installs it) the masks are
    drawn as packed bits, 1 bit per (sample, weight), and applied inside
    masked SIMD kernels (``_dropconnect``). Otherwise (CUDA, or no Numba) they
    are expanded into T = M∘x, laid out (sample, out, in), and the forward and
    gradient are two batched products with it; on the CPU T is unpacked from
    the same bits, so both CPU paths train on identical masks.
    """

    def __init__(self, keep_prob: float, source: RandomSource) -> None:
        self.keep_prob = keep_prob
        self.realized = _dropconnect.realized_keep_prob(keep_prob)
        self.source = source
        self.fused = source.device.type == "cpu" and _dropconnect.available()
        self.bits: np.ndarray | None = None
        self.masked_inputs: torch.Tensor | None = None

    @property
    def name(self) -> str:
        return f"per-sample masks, {_dropconnect.kernel_name() if self.fused else 'torch'}"

    def mask_bytes_per_sample(self, n_out: int, n_in: int) -> int:
        if self.fused:
            return n_out * 8 * _dropconnect.words_per_row(n_in)
        # T in float32, plus the unpacked uint8 mask on the CPU
        return n_out * n_in * (5 if self.source.device.type == "cpu" else 4)

    def preact(self, W: torch.Tensor, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        shape = (x.shape[0], *W.shape)
        threads = torch.get_num_threads()
        if self.fused:
            self.bits = self.source.sample_masks(shape, self.keep_prob, threads)
            _dropconnect.masked_preact(W.numpy(), x.numpy(), self.bits, out.numpy(),
                                       threads)
            return out.div_(self.realized)
        if self.source.device.type == "cpu":
            keep = unpack_bits(self.source.sample_masks(shape, self.keep_prob, threads),
                               shape[-1])
            T = torch.from_numpy(keep).mul(x.unsqueeze(1))
        else:
            T = self.source.bernoulli(shape, self.keep_prob).mul_(x.unsqueeze(1))
        self.masked_inputs = T
        a = torch.bmm(T.transpose(0, 1), W.unsqueeze(2)).squeeze(2).T
        return torch.div(a, self.realized, out=out)

    def add_weight_grad(self, velocity: torch.Tensor, delta: torch.Tensor,
                        x: torch.Tensor, scale: float) -> None:
        scale /= self.realized
        if self.fused:  # scaled δ, then the kernel adds into the momentum buffer itself
            _dropconnect.masked_weight_grad((delta * scale).numpy(), x.numpy(), self.bits,
                                            velocity.numpy(), torch.get_num_threads())
            return
        grad = torch.bmm(delta.T.unsqueeze(1), self.masked_inputs.transpose(0, 1))
        velocity.add_(grad.squeeze(1), alpha=scale)


def make_encoder(reg: LayerRegularizer, source: RandomSource):
    if reg.keep_prob is None:
        return DenseEncoder()
    if reg.mask == "batch":
        return BatchMaskEncoder(reg.keep_prob, source)
    return SampleMaskEncoder(reg.keep_prob, source)


def total_entropy(X: torch.Tensor, block_rows: int = 4096) -> float:
    """Σ over rows and pixels of H(x_i) of Bernoulli pixels, summed in float64
    (row blocks bound the temporaries): KL(x ‖ z) = BCE(x, z) − H(x), and H is
    a constant of the training set, so it is computed once per layer."""
    total = 0.0
    for start in range(0, X.shape[0], block_rows):
        x = X[start:start + block_rows]
        total += float(torch.special.entr(x).sum(dtype=torch.float64)
                       + torch.special.entr(1 - x).sum(dtype=torch.float64))
    return total


# --- the tied-weight sigmoid autoencoder layer (written once) -----------------


@dataclasses.dataclass
class TiedLayer:
    """Encoder y = s(W x + b), decoder z = s(Wᵀ y + c); W is (out, in)."""

    W: torch.Tensor
    b: torch.Tensor
    c: torch.Tensor

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Inference features (eq. 7/10): no mask, no noise."""
        return torch.sigmoid(x @ self.W.T + self.b)

    def decode(self, y: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(y @ self.W + self.c)


def chunk_rows(bytes_per_sample: int, mask_chunk_mb: float) -> int:
    """Samples per chunk so that the chunk's masks fit the bound."""
    return max(1, int(mask_chunk_mb * 2**20) // bytes_per_sample)


class LayerTrainer:
    """Mini-batch SGD with momentum for one tied layer, without allocating per batch.

    Every array a step needs is allocated once, for the largest batch, and each
    operation writes into one of them: the biases are added inside the GEMMs,
    the sigmoids run in place, and the gradient of each parameter goes
    straight into its momentum buffer (v ← μ v, then v += −η/n · ∂ of the
    summed loss, chunk by chunk; then θ += v), so no gradient array exists.
    Same arithmetic as the textbook step, summed in another order.
    """

    def __init__(self, layer: TiedLayer, reg: LayerRegularizer, encoder,
                 source: RandomSource, max_rows: int) -> None:
        self.layer, self.reg, self.encoder, self.source = layer, reg, encoder, source
        n_out, n_in = layer.W.shape
        self.velocity = [torch.zeros_like(p) for p in (layer.W, layer.b, layer.c)]
        self.rows = (chunk_rows(encoder.mask_bytes_per_sample(n_out, n_in),
                                reg.mask_chunk_mb) if reg.per_sample_mask else max_rows)
        rows = min(self.rows, max_rows)

        def empty(*shape):
            return torch.empty(shape, dtype=layer.W.dtype, device=layer.W.device)

        self._x, self._corrupt = empty(max_rows, n_in), empty(rows, n_in)
        self._y, self._grad_y, self._delta = empty(rows, n_out), empty(rows, n_out), \
            empty(rows, n_out)
        self._u, self._err = empty(rows, n_in), empty(rows, n_in)
        self._sum_out, self._sum_in = empty(n_out), empty(n_in)
        self._zero = torch.zeros((), dtype=layer.W.dtype, device=layer.W.device)

    def batch(self, X: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """X's ``rows``, gathered into the step's own buffer."""
        return torch.index_select(X, 0, rows, out=self._x[:len(rows)])

    def step(self, x: torch.Tensor, learning_rate: float, momentum: float) -> float:
        """One SGD step on the mini-batch ``x``; returns its summed BCE."""
        for v in self.velocity:
            v.mul_(momentum)
        bce = self.accumulate(x, -learning_rate / x.shape[0])
        for p, v in zip((self.layer.W, self.layer.b, self.layer.c), self.velocity,
                        strict=True):
            p.add_(v)
        return bce

    def gradients(self, x: torch.Tensor) -> tuple[float, list[torch.Tensor]]:
        """(mean BCE, [∂W, ∂b, ∂c] of the mean loss) on ``x``, the parameters
        left as they are: the step's own arithmetic, for checking it."""
        for v in self.velocity:
            v.zero_()
        bce = self.accumulate(x, 1.0 / x.shape[0])
        return bce / x.shape[0], [v.clone() for v in self.velocity]

    def accumulate(self, x: torch.Tensor, scale: float) -> float:
        """Add ``scale`` × ∂(Σ_b loss_b)/∂θ to the momentum buffers, chunk by
        chunk of the mini-batch; return Σ_b BCE(x_b, z_b)."""
        bce = 0.0
        for start in range(0, x.shape[0], self.rows):
            bce += self._chunk(x[start:start + self.rows], scale)
        return bce

    def _chunk(self, target: torch.Tensor, scale: float) -> float:
        layer, reg, n = self.layer, self.reg, target.shape[0]
        W, vW, vb, vc = layer.W, *self.velocity
        x_in = target
        if reg.noise_level:  # masking noise: the layer reconstructs the clean input
            x_in = self.source.bernoulli(tuple(target.shape), 1.0 - reg.noise_level,
                                         out=self._corrupt[:n], times=target)
        y = self.encoder.preact(W, x_in, self._y[:n]).add_(layer.b).sigmoid_()
        u = torch.addmm(layer.c, y, W, out=self._u[:n])  # decoder pre-activation
        err = self._err[:n]
        # BCE(x, z) = Σ softplus(u) − x·u, with z = s(u); logaddexp(u, 0) is softplus.
        bce = float(torch.logaddexp(u, self._zero, out=err).sum()) - float(
            torch.dot(target.reshape(-1), u.reshape(-1)))
        torch.sigmoid(u, out=err).sub_(target)  # ∂BCE/∂u = z − x
        vW.addmm_(y.T, err, alpha=scale)  # the decoder's use of the tied W
        vc.add_(torch.sum(err, 0, out=self._sum_in), alpha=scale)
        grad_y = torch.mm(err, W.T, out=self._grad_y[:n])
        if reg.sparsity_weight > 0:
            rho, rho_hat = reg.sparsity_target, y.mean(0).clamp_(1e-6, 1 - 1e-6)
            # ∂/∂y_bj of n·β Σ_j KL(ρ ‖ ρ̂_j), with ρ̂_j = mean_b y_bj.
            grad_y.add_(((1 - rho) / (1 - rho_hat) - rho / rho_hat)
                        .mul_(reg.sparsity_weight))
        delta = torch.addcmul(y, y, y, value=-1, out=self._delta[:n]).mul_(grad_y)
        self.encoder.add_weight_grad(vW, delta, x_in, scale)  # y(1 − y): the sigmoid's
        vb.add_(torch.sum(delta, 0, out=self._sum_out), alpha=scale)
        return bce


def new_layer(n_in: int, n_hidden: int, random_state: np.random.RandomState,
              device: torch.device) -> TiedLayer:
    return TiedLayer(
        W=torch.from_numpy(glorot_sigmoid_init(n_in, n_hidden, random_state)).to(device),
        b=torch.zeros(n_hidden, device=device),
        c=torch.zeros(n_in, device=device),
    )


def train_layer(X: torch.Tensor, n_hidden: int, reg: LayerRegularizer,
                sgd: SGDConfig, random_state: np.random.RandomState
                ) -> tuple[TiedLayer, np.ndarray, str]:
    """Train one tied-weight layer on X (n, in) in [0, 1]; return it, the
    per-epoch mean per-sample KL (eq. 5) seen during training, and the name of
    the encoder that ran (which DropConnect kernel, if any)."""
    device = X.device
    n, n_in = X.shape
    layer = new_layer(n_in, n_hidden, random_state, device)
    source = RandomSource(int(random_state.randint(2**31 - 1)), device)
    encoder = make_encoder(reg, source)
    trainer = LayerTrainer(layer, reg, encoder, source, min(sgd.batch_size, n))
    entropy = total_entropy(X)
    history = np.empty(sgd.epochs)
    for epoch in range(sgd.epochs):
        order = torch.from_numpy(random_state.permutation(n)).to(device)
        bce = 0.0
        for start in range(0, n, sgd.batch_size):
            x = trainer.batch(X, order[start:start + sgd.batch_size])
            bce += trainer.step(x, sgd.learning_rate, sgd.momentum)
        history[epoch] = (bce - entropy) / n
        if not math.isfinite(history[epoch]):
            raise FloatingPointError(
                f"training diverged in epoch {epoch + 1} (loss {history[epoch]}); "
                "lower learning_rate"
            )
    return layer, history, encoder.name


@dataclasses.dataclass
class StackTraining:
    """What ``train_stack`` trained, and how: per layer, its loss per epoch,
    the encoder that ran (which DropConnect kernel) and its wall seconds."""

    layers: list[TiedLayer]
    histories: list[np.ndarray]
    encoders: list[str]
    seconds: list[float]


def train_stack(X: np.ndarray, hidden_sizes: tuple[int, ...],
                regularizers: tuple[LayerRegularizer, ...], sgd: SGDConfig,
                random_state: np.random.RandomState, device: torch.device
                ) -> StackTraining:
    """Greedy layer-wise training: each layer learns to reconstruct the clean
    features of the one below (eqs. 3–10)."""
    inputs = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32), device=device)
    trained = StackTraining([], [], [], [])
    with torch.no_grad():
        for n_hidden, reg in zip(hidden_sizes, regularizers, strict=True):
            start = time.perf_counter()
            layer, history, encoder = train_layer(inputs, n_hidden, reg, sgd, random_state)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            trained.seconds.append(time.perf_counter() - start)
            trained.layers.append(layer)
            trained.histories.append(history)
            trained.encoders.append(encoder)
            inputs = layer.encode(inputs)
    return trained
