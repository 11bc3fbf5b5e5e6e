"""The stacked autoencoder estimator behind AE, SAE, DAE and DDAE: train, then classify with KELM.

One estimator class; the four algorithms are its registered specs, which differ
only in their defaults (which regularizer is on) and search spaces.

This module does not import torch (the plugin modules import it to register
their specs, and must load without torch); the engine is imported in ``fit``.
Inference (``transform``, ``reconstruct``, ``predict``) is NumPy only.
"""

from __future__ import annotations

import contextlib
import importlib.util

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.model_selection import ParameterGrid
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from benchbase.numerics.devices import check_device, resolve_device
from benchbase.numerics.linalg import block_apply, for_inference
from benchbase.timing import timed
from benchbase_ae.artifacts import trial_artifacts
from benchbase_elm import KELMClassifier, check_positive, score_kelm_grid

INSTALL_HINT = "pip install 'benchbase-suite[ae]'"

#: Hidden units of each layer by default (docs/autoencoders.md).
N_HIDDEN = 500
#: KELM head widths searched, 0.2 and 0.28 × √n_hidden2: layer-2 features lie
#: in [0, 1]^n_hidden2, so distances grow like √n_hidden2. A pilot on MNIST
#: validation data found the accuracy flat from 0.14 to 0.4 and for C from 10
#: to 1000 (docs/autoencoders.md), so C stays at its default. The larger
#: width is the default.
HEAD_WIDTHS = tuple(round(f * N_HIDDEN**0.5, 2) for f in (0.2, 0.28))


#: Input dtypes validation keeps as given (others become float32); training and
#: features are float32 whatever the input.
INPUT_DTYPES = [np.float32, np.float64]


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


@contextlib.contextmanager
def _torch_threads(torch, n_threads):
    """Use ``n_threads`` torch threads inside the block (None: leave as set)."""
    if n_threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _flushed_denormals(torch):
    """Flush subnormal floats to zero (x86 FTZ/DAZ) inside the block; say if it could.

    Saturated sigmoids make subnormal deltas and gradients, and an Intel core
    takes a microcode assist on each: layer 2 of a plain AE trained several
    times slower than its GEMMs allow (docs/speed.md). The flag is per thread
    and threads copy it when they start, so torch's pool threads have it when
    the first parallel operation comes after it is set (as in a trial's own
    process). Afterwards the calling thread is set back to torch's default
    (off).
    """
    flushed = torch.set_flush_denormal(True)
    try:
        yield flushed
    finally:
        if flushed:
            torch.set_flush_denormal(False)


class StackedAutoencoderClassifier(ClassifierMixin, TransformerMixin, BaseEstimator):
    """A 2-layer stacked tied-weight sigmoid autoencoder with a KELM classifier.

    The training-time regularizers are parameters; each one's neutral value
    (the default) turns it off, so the defaults train a plain autoencoder (AE).
    SAE, DAE and DDAE are this estimator with one regularizer on. Features at
    inference never use noise or masks.

    Parameters:
        n_hidden1, n_hidden2: hidden units of layer 1 and layer 2.
        learning_rate, momentum, batch_size, epochs: mini-batch SGD with
            classical momentum, the same for both layers (epochs per layer).
        sparsity_target, sparsity_weight: the sparse autoencoder (SAE): each
            layer adds β Σ_j KL(ρ ‖ ρ̂_j) to its loss, ρ = ``sparsity_target``
            in (0, 1), β = ``sparsity_weight`` ≥ 0 (0: off), ρ̂_j the mean
            activation of hidden unit j over the mini-batch. The paper does not
            say which layers are sparse; both are (NOTES.md §2).
        noise_level: the denoising autoencoder (DAE): while a layer trains,
            each of its inputs is zeroed with this probability, in [0, 1)
            (0: off; masking noise, Vincent et al. 2008), and the layer learns
            to reconstruct the clean input. Layer 2's input is layer 1's clean
            features, corrupted the same way (both layers denoise, NOTES.md §2).
        keep_prob: DropConnect on layer 1's encoder weights (DDAE, the
            paper's eqs. 2-10): layer 1 trains with y = s((M ∘ W1) x / p + b1),
            M ~ Bernoulli(p) per weight, p = ``keep_prob`` in (0, 1] (1: off;
            the paper's dropconnectFraction is 1 − p); the decoder uses the
            unmasked W1ᵀ (eq. 4). Kept weights are scaled by 1/p during
            training ("inverted" DropConnect), so features at inference are
            exactly eq. 7, s(W1 x + b1). Layer 2 is a plain autoencoder.
        mask: with DropConnect, "sample" (default, the paper's: a fresh mask
            per sample) or "batch" (one mask per mini-batch, cheaper).
        mask_chunk_mb: with mask="sample", samples are processed in chunks
            whose masks take at most this many MiB of memory.
        C, kernel_width: the KELM head (``kernel_width`` is γ of eq. 12, in the
            units of the layer-2 features, which lie in [0, 1]).
        scale_inputs: False (default) requires X in [0, 1] (eq. 5 reads
            pixels as Bernoulli probabilities) and raises otherwise; True learns
            a per-feature min-max scaling in ``fit`` (clipped to [0, 1] after).
        device: "auto" (CUDA when available, else CPU), "cpu" or "cuda".
        n_threads: torch threads used by ``fit``; None keeps torch's setting.
        random_state: seeds weights, shuffling, noise and masks. On CPU the
            same seed (and thread count) gives the same model.
    """

    def __init__(self, n_hidden1=N_HIDDEN, n_hidden2=N_HIDDEN, learning_rate=0.05,
                 momentum=0.9, batch_size=100, epochs=15, sparsity_target=0.05,
                 sparsity_weight=0.0, noise_level=0.0, keep_prob=1.0, mask="sample",
                 mask_chunk_mb=32.0, C=100.0, kernel_width=HEAD_WIDTHS[-1],
                 scale_inputs=False, device="auto", n_threads=None, random_state=None):
        self.n_hidden1 = n_hidden1
        self.n_hidden2 = n_hidden2
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.epochs = epochs
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight
        self.noise_level = noise_level
        self.keep_prob = keep_prob
        self.mask = mask
        self.mask_chunk_mb = mask_chunk_mb
        self.C = C
        self.kernel_width = kernel_width
        self.scale_inputs = scale_inputs
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state

    def _regularizers(self, engine) -> tuple:
        """One ``engine.LayerRegularizer`` per layer (they validate the values)."""
        both = dict(noise_level=self.noise_level, sparsity_target=self.sparsity_target,
                    sparsity_weight=self.sparsity_weight, mask=self.mask,
                    mask_chunk_mb=self.mask_chunk_mb)
        dropconnect = None if self.keep_prob == 1 else self.keep_prob
        return (engine.LayerRegularizer(**both, keep_prob=dropconnect),
                engine.LayerRegularizer(**both))

    def _check_params(self) -> None:
        for name in ("n_hidden1", "n_hidden2", "batch_size", "epochs"):
            check_positive(name, getattr(self, name), integer=True)
        for name in ("learning_rate", "C", "kernel_width"):
            check_positive(name, getattr(self, name))
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        check_device(self.device)
        if self.n_threads is not None:
            check_positive("n_threads", self.n_threads, integer=True)

    def _resolve_device(self, torch):
        return resolve_device(self.device) or torch.device("cpu")

    def _scale(self, X: np.ndarray) -> np.ndarray:
        if self.scale_inputs:
            X = (X - self.input_min_) * self.input_scale_
            return np.clip(X, 0.0, 1.0, out=X)
        if X.size and (X.min() < 0 or X.max() > 1):
            raise ValueError(
                "X must lie in [0, 1] (pixels read as probabilities, eq. 5); "
                "pass scale_inputs=True to min-max scale it"
            )
        return X

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=INPUT_DTYPES)
        check_classification_targets(y)
        X, train_seconds = self._fit_encoder(X)
        # The head solves where the encoder trained (a GPU's memory budget then
        # decides between its exact and Nyström solvers).
        head_device = "cuda" if self.device_.startswith("cuda") else "cpu"
        self.head_ = KELMClassifier(C=self.C, kernel_width=self.kernel_width,
                                    device=head_device)
        with timed() as head:
            self.head_.fit(self._features(X), y)
        self.classes_ = self.head_.classes_
        # Where the fit's time went, and how the head was solved (its memory
        # plan may recompute K_nM when memory is short, a slower fit).
        self.fit_info_ = {"device": self.device_,
                          # Per layer: the encoder that trained it (the DropConnect
                          # kernel) and its seconds.
                          **self.training_,
                          "train_seconds": round(train_seconds, 3),
                          "head_seconds": round(head.wall_seconds, 3),
                          "head": self.head_.fit_info_}
        return self

    def _fit_encoder(self, X) -> tuple[np.ndarray, float]:
        """Train the autoencoder stack on validated X, without the head.

        Returns X scaled as the encoder reads it, and the training's seconds.
        """
        self._check_params()
        if not torch_available():
            raise ImportError(f"{type(self).__name__} needs torch: {INSTALL_HINT}")
        import torch

        from benchbase_ae import _engine as engine

        regularizers = self._regularizers(engine)  # validates their parameters
        X = np.asarray(X, dtype=np.float32)
        if self.scale_inputs:
            self.input_min_ = X.min(axis=0)
            span = X.max(axis=0) - self.input_min_
            self.input_scale_ = np.where(span > 0, 1.0 / np.where(span > 0, span, 1),
                                         0.0).astype(np.float32)
        X = self._scale(X.copy())
        random_state = check_random_state(self.random_state)
        sgd = engine.SGDConfig(self.learning_rate, self.momentum, self.batch_size,
                               self.epochs)
        self.device_ = str(self._resolve_device(torch))
        with (_flushed_denormals(torch) as flushed, timed() as training,
              _torch_threads(torch, self.n_threads)):
            trained = engine.train_stack(
                X, (self.n_hidden1, self.n_hidden2), regularizers, sgd,
                random_state, torch.device(self.device_),
            )
        self.encoder_weights_ = [layer.W.cpu().numpy() for layer in trained.layers]
        self.encoder_biases_ = [layer.b.cpu().numpy() for layer in trained.layers]
        self.decoder_biases_ = [layer.c.cpu().numpy() for layer in trained.layers]
        self.loss_history_ = trained.histories
        self.training_ = {"encoders": trained.encoders,
                          "layer_seconds": [round(s, 3) for s in trained.seconds],
                          "subnormals_flushed": flushed}
        return X, training.wall_seconds

    def _validate(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=INPUT_DTYPES)
        return self._scale(np.array(X, dtype=np.float32))

    def _features(self, X: np.ndarray) -> np.ndarray:
        """Layer-2 features (float32), computed as ``for_inference`` says."""
        layers = [for_inference(W.T, b) for W, b in zip(
            self.encoder_weights_, self.encoder_biases_, strict=True)]

        def encode(block):
            (block,) = for_inference(block)
            for W_T, b in layers:
                block = expit(block @ W_T + b)  # eqs. 7 and 10: no mask, no noise
            return block.astype(np.float32)

        return block_apply(encode, X)

    def transform(self, X) -> np.ndarray:
        """Top-layer (layer-2) features, the KELM head's input."""
        return self._features(self._validate(X))

    def reconstruct(self, X) -> np.ndarray:
        """Layer-1 reconstruction s(W1ᵀ s(W1 x + b1) + c1), in the input scale."""
        X = self._validate(X)
        W, b, c = for_inference(self.encoder_weights_[0], self.encoder_biases_[0],
                                self.decoder_biases_[0])

        def decode(block):
            (block,) = for_inference(block)
            return expit(expit(block @ W.T + b) @ W + c).astype(np.float32)

        Z = block_apply(decode, X)
        if self.scale_inputs:
            with np.errstate(divide="ignore"):
                span = np.where(self.input_scale_ > 0, 1.0 / self.input_scale_, 0.0)
            Z = Z * span + self.input_min_
        return Z

    def decision_function(self, X):
        features = self.transform(X)  # checks fitted before head_ is touched
        return self.head_.decision_function(features)

    def predict(self, X):
        features = self.transform(X)
        return self.head_.predict(features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Training and features are float32 whatever the input dtype.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


#: The KELM head's parameters: they do not change the autoencoder's training.
HEAD_PARAMS = ("C", "kernel_width")


def score_autoencoder_grid(*, X_fit, y_fit, X_val, y_val, grid, fixed_params,
                           random_state):
    """The autoencoders' ``benchbase.GridScorer``: train each autoencoder once,
    then score every head setting on its features.

    A grid point's autoencoder depends only on the non-head parameters (and
    the seed), so points that differ only in the head share one training; the
    head grid is scored by KELM's own grid scorer on the layer-2 features.
    """
    head_grid = {k: v for k, v in grid.items() if k in HEAD_PARAMS}
    body_grid = {k: v for k, v in grid.items() if k not in HEAD_PARAMS}
    scored = []
    for body in ParameterGrid(body_grid):
        model = StackedAutoencoderClassifier(
            **{**fixed_params, **body, "random_state": random_state})
        # The encoder only: the head grid is scored on its features below, so
        # a head fitted here would be thrown away (minutes at full scale).
        X_scaled, _ = model._fit_encoder(validate_data(
            model, X_fit, dtype=INPUT_DTYPES))
        head_fixed = {k: getattr(model, k) for k in HEAD_PARAMS if k not in head_grid}
        features_fit, features_val = model._features(X_scaled), model.transform(X_val)
        for head, predictions in score_kelm_grid(
                X_fit=features_fit, y_fit=y_fit, X_val=features_val, y_val=y_val,
                grid=head_grid, fixed_params=head_fixed, random_state=None):
            scored.append(({**body, **head}, predictions))
    return scored


def autoencoder_spec(name, description, *, defaults=None, searched=None,
                     accelerators=None):
    """The ``AlgorithmSpec`` of one autoencoder algorithm.

    ``defaults`` turn its regularizer on; ``searched`` is the grid of that
    regularizer (docs/autoencoders.md), searched together with the head's width;
    ``accelerators``: see ``AlgorithmSpec.accelerators``.
    """
    import benchbase

    return benchbase.AlgorithmSpec(
        name=name,
        family="AE",
        factory=StackedAutoencoderClassifier,
        defaults=dict(defaults or {}),
        search_space={"kernel_width": list(HEAD_WIDTHS), **(searched or {})},
        randomized=True,
        reconstructs=True,
        description=description,
        requires=("torch",),
        install_hint=INSTALL_HINT,
        score_grid=score_autoencoder_grid,
        shared_fit_params=HEAD_PARAMS,
        trial_artifacts=trial_artifacts,
        accelerators=dict(accelerators or {}),
    )
