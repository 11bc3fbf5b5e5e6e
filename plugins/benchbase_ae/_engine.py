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

import numpy as np
import torch
import torch.nn.functional as F

from benchbase_ae import _dropconnect

MASK_MODES = ("sample", "batch")
#: Bernoulli masks compare 16-bit random fractions with p rounded to 16 binary
#: digits: the keep probability is realized to within 2⁻¹⁷.
_BITS = 16


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
        if self.keep_prob is not None and not 0.0 < self.keep_prob <= 1.0:
            raise ValueError(f"keep_prob must be in (0, 1], got {self.keep_prob!r}")
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
    """Seeded Bernoulli masks on the training device.

    On CPU the bits come from NumPy's SFC64 generator (about 3x faster than
    torch's CPU generator for this volume of bits); on CUDA from a torch
    generator on the GPU. Either way the same seed gives the same masks.
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
        (rounded to 16 binary digits).

        Bit-sliced comparison u < p of a uniform u = 0.u₁u₂…, 64 samples per
        word, using only as many random bit-planes as p has binary digits: p =
        0.5 costs one random bit per sample instead of 16.
        """
        digits = round(keep_prob * 2**_BITS)
        if digits in (0, 2**_BITS):  # p rounds to 0 or 1: nothing to draw
            return np.full(words, np.uint64(0 if digits == 0 else 2**64 - 1))
        depth = _BITS - ((digits & -digits).bit_length() - 1)  # drop trailing 0s
        less = np.zeros(words, dtype=np.uint64)
        equal = np.full(words, np.uint64(2**64 - 1))
        for i in range(depth):
            plane = self._np.integers(0, 2**64 - 1, size=words, dtype=np.uint64,
                                      endpoint=True)
            if (digits >> (_BITS - 1 - i)) & 1:  # p's digit 1: u's digit 0 wins
                less |= equal & ~plane
                equal &= plane
            else:
                equal &= ~plane
        return less

    def packed_bernoulli(self, shape: tuple[int, ...], keep_prob: float) -> np.ndarray:
        """Bernoulli(keep_prob) bits for an array of ``shape``, packed along the
        last axis (CPU only): uint64 of shape ``shape[:-1] + (⌈shape[-1]/64⌉,)``,
        bit t of word j standing for element 64 j + t (see ``unpack_bits``)."""
        words = -(-shape[-1] // 64)
        packed = self._bitplane_words(math.prod(shape[:-1]) * words, keep_prob)
        return packed.reshape(*shape[:-1], words)

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
        threshold = round(keep_prob * 2**_BITS) - 2 ** (_BITS - 1)
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


class DenseEncoder:
    """No DropConnect: a = x Wᵀ."""

    def preact(self, W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return x @ W.T

    def weight_grad(self, delta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return delta.T @ x


class BatchMaskEncoder:
    """DropConnect with one mask M for the whole mini-batch: a = x (M∘W)ᵀ / p."""

    def __init__(self, keep_prob: float, source: RandomSource) -> None:
        self.keep_prob = keep_prob
        self.source = source
        self.mask: torch.Tensor | None = None

    def preact(self, W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        self.mask = self.source.bernoulli(tuple(W.shape), self.keep_prob)
        return x @ (W * self.mask).T / self.keep_prob

    def weight_grad(self, delta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return (delta.T @ x) * self.mask / self.keep_prob


class SampleMaskEncoder:
    """DropConnect with a fresh mask M_b for every sample: a_b = (M_b∘W) x_b / p.

    Per (sample, weight) work is unavoidable, so the goal is few passes over
    it. On the CPU with Numba (the ``ae`` extra installs it) the masks are
    drawn as packed bits, 1 bit per (sample, weight), and applied inside fused
    kernels (``_dropconnect``). Otherwise (CUDA, or no Numba) they are expanded
    into T = M∘x, laid out (sample, out, in), and the forward and gradient are
    two batched products with it; on the CPU T is unpacked from the same bits,
    so both CPU paths train on identical masks.
    """

    def __init__(self, keep_prob: float, source: RandomSource) -> None:
        self.keep_prob = keep_prob
        self.source = source
        self.fused = source.device.type == "cpu" and _dropconnect.available()
        self.bits: np.ndarray | None = None
        self.masked_inputs: torch.Tensor | None = None

    def mask_bytes_per_sample(self, n_out: int, n_in: int) -> int:
        if self.fused:
            return n_out * 8 * -(-n_in // 64)
        # T in float32, plus the unpacked uint8 mask on the CPU
        return n_out * n_in * (5 if self.source.device.type == "cpu" else 4)

    def preact(self, W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        shape = (x.shape[0], *W.shape)
        if self.fused:
            self.bits = self.source.packed_bernoulli(shape, self.keep_prob)
            a = _dropconnect.masked_preact(W.numpy(), x.numpy(), self.bits,
                                           torch.get_num_threads())
            return torch.from_numpy(a).div_(self.keep_prob)
        if self.source.device.type == "cpu":
            keep = unpack_bits(self.source.packed_bernoulli(shape, self.keep_prob),
                               shape[-1])
            T = torch.from_numpy(keep).mul(x.unsqueeze(1))
        else:
            T = self.source.bernoulli(shape, self.keep_prob).mul_(x.unsqueeze(1))
        self.masked_inputs = T
        return torch.bmm(T.transpose(0, 1), W.unsqueeze(2)).squeeze(2).T / self.keep_prob

    def weight_grad(self, delta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.fused:
            grad = _dropconnect.masked_weight_grad(delta.numpy(), x.numpy(), self.bits,
                                                   torch.get_num_threads())
            return torch.from_numpy(grad).div_(self.keep_prob)
        grad = torch.bmm(delta.T.unsqueeze(1), self.masked_inputs.transpose(0, 1))
        return grad.squeeze(1) / self.keep_prob


def make_encoder(reg: LayerRegularizer, source: RandomSource):
    if reg.keep_prob is None:
        return DenseEncoder()
    if reg.mask == "batch":
        return BatchMaskEncoder(reg.keep_prob, source)
    return SampleMaskEncoder(reg.keep_prob, source)


def entropy(x: torch.Tensor) -> torch.Tensor:
    """Per-row Σ H(x_i) of Bernoulli pixels: KL(x ‖ z) = BCE(x, z) − H(x)."""
    return (torch.special.entr(x) + torch.special.entr(1 - x)).sum(1)


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

    def sums(self, x_in: torch.Tensor, target: torch.Tensor, encoder,
             reg: LayerRegularizer) -> tuple[float, list[torch.Tensor]]:
        """Σ_b KL(target_b ‖ z_b) + (n · sparsity penalty), and its gradient.

        ``x_in`` is the (possibly corrupted) input, ``target`` the clean one.
        Returns the summed BCE (the caller subtracts the constant entropy) and
        the gradients [∂W, ∂b, ∂c] of the sum over the n rows.
        """
        y = torch.sigmoid(encoder.preact(self.W, x_in) + self.b)
        u = y @ self.W + self.c
        bce = F.binary_cross_entropy_with_logits(u, target, reduction="sum")
        err = torch.sigmoid(u) - target  # ∂BCE/∂u
        grad_W = y.T @ err  # decoder use of the tied W
        grad_c = err.sum(0)
        grad_y = err @ self.W.T
        if reg.sparsity_weight > 0:
            rho, rho_hat = reg.sparsity_target, y.mean(0).clamp(1e-6, 1 - 1e-6)
            # ∂/∂y_bj of n·β Σ_j KL(ρ ‖ ρ̂_j), with ρ̂_j = mean_b y_bj.
            grad_y = grad_y + reg.sparsity_weight * (
                (1 - rho) / (1 - rho_hat) - rho / rho_hat
            )
        delta = grad_y * y * (1 - y)  # through the sigmoid
        grad_W += encoder.weight_grad(delta, x_in)
        return float(bce), [grad_W, delta.sum(0), grad_c]


def chunk_rows(bytes_per_sample: int, mask_chunk_mb: float) -> int:
    """Samples per chunk so that the chunk's masks fit the bound."""
    return max(1, int(mask_chunk_mb * 2**20) // bytes_per_sample)


def _corrupt(x: torch.Tensor, reg: LayerRegularizer, source: RandomSource
             ) -> torch.Tensor:
    if reg.noise_level == 0:
        return x
    return source.bernoulli(tuple(x.shape), 1.0 - reg.noise_level, times=x)


def batch_step(layer: TiedLayer, x: torch.Tensor, reg: LayerRegularizer,
               encoder, source: RandomSource, x_entropy: torch.Tensor
               ) -> tuple[float, list[torch.Tensor]]:
    """Mean per-sample KL over the mini-batch and the gradient of the objective."""
    n = x.shape[0]
    if reg.per_sample_mask:
        step = chunk_rows(encoder.mask_bytes_per_sample(*layer.W.shape),
                          reg.mask_chunk_mb)
    else:
        step = n
    bce, grads = 0.0, None
    for start in range(0, n, step):
        target = x[start:start + step]
        part_bce, part = layer.sums(_corrupt(target, reg, source), target,
                                    encoder, reg)
        bce += part_bce
        grads = part if grads is None else [g + p for g, p in zip(grads, part,
                                                                   strict=True)]
    kl = (bce - float(x_entropy.sum())) / n
    return kl, [g / n for g in grads]


def train_layer(X: torch.Tensor, n_hidden: int, reg: LayerRegularizer,
                sgd: SGDConfig, random_state: np.random.RandomState
                ) -> tuple[TiedLayer, np.ndarray]:
    """Train one tied-weight layer on X (n, in) in [0, 1]; return it and the
    per-epoch mean per-sample KL (eq. 5) seen during training."""
    device = X.device
    n, n_in = X.shape
    layer = TiedLayer(
        W=torch.from_numpy(glorot_sigmoid_init(n_in, n_hidden, random_state)
                           ).to(device),
        b=torch.zeros(n_hidden, device=device),
        c=torch.zeros(n_in, device=device),
    )
    params = [layer.W, layer.b, layer.c]
    velocity = [torch.zeros_like(p) for p in params]
    source = RandomSource(int(random_state.randint(2**31 - 1)), device)
    encoder = make_encoder(reg, source)
    x_entropy = entropy(X)
    history = np.empty(sgd.epochs)
    for epoch in range(sgd.epochs):
        order = torch.from_numpy(random_state.permutation(n)).to(device)
        total = 0.0
        for start in range(0, n, sgd.batch_size):
            rows = order[start:start + sgd.batch_size]
            kl, grads = batch_step(layer, X[rows], reg, encoder, source,
                                   x_entropy[rows])
            total += kl * len(rows)
            for p, v, g in zip(params, velocity, grads, strict=True):
                v.mul_(sgd.momentum).sub_(g, alpha=sgd.learning_rate)
                p.add_(v)
        history[epoch] = total / n
        if not math.isfinite(history[epoch]):
            raise FloatingPointError(
                f"training diverged in epoch {epoch + 1} (loss {history[epoch]}); "
                "lower learning_rate"
            )
    return layer, history


def train_stack(X: np.ndarray, hidden_sizes: tuple[int, ...],
                regularizers: tuple[LayerRegularizer, ...], sgd: SGDConfig,
                random_state: np.random.RandomState, device: torch.device
                ) -> tuple[list[TiedLayer], list[np.ndarray]]:
    """Greedy layer-wise training: each layer learns to reconstruct the clean
    features of the one below (eqs. 3–10)."""
    inputs = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32), device=device)
    layers, histories = [], []
    with torch.no_grad():
        for n_hidden, reg in zip(hidden_sizes, regularizers, strict=True):
            layer, history = train_layer(inputs, n_hidden, reg, sgd, random_state)
            layers.append(layer)
            histories.append(history)
            inputs = layer.encode(inputs)
    return layers, histories
