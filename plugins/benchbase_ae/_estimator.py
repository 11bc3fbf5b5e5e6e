"""The scikit-learn face of the stacked autoencoders: train, then classify with KELM.

This module does not import torch (the plugin modules import it to register
their specs, and must load without torch); the engine is imported in ``fit``.
Inference (``transform``, ``reconstruct``, ``predict``) is NumPy only.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.model_selection import ParameterGrid
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from benchbase.devices import check_device, resolve_device
from benchbase.linalg import block_apply
from benchbase_elm import KELMClassifier, check_positive, score_kelm_grid

INSTALL_HINT = "pip install 'benchbase-suite[ae]'"

#: KELM head widths searched, as multiples of √n_hidden2: layer-2 features lie
#: in [0, 1]^n_hidden2, so distances grow like √n_hidden2. A pilot on MNIST
#: validation data found the accuracy flat from 0.14 to 0.4 and for C from 10
#: to 1000 (docs/autoencoders.md), so C stays at its default.
WIDTH_FACTORS = (0.2, 0.28)
DEFAULT_N_HIDDEN2 = 500


def head_search_space(n_hidden2: int = DEFAULT_N_HIDDEN2) -> dict:
    return {"kernel_width": [round(f * n_hidden2**0.5, 2) for f in WIDTH_FACTORS]}


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


class StackedAutoencoderClassifier(ClassifierMixin, TransformerMixin, BaseEstimator):
    """A 2-layer stacked tied-weight sigmoid autoencoder with a KELM classifier.

    Subclasses (AE, SAE, DAE, DDAE) differ only in ``_regularizers()``, the
    training-time regularizer of each layer.

    Parameters shared by all four:
        n_hidden1, n_hidden2: hidden units of layer 1 and layer 2.
        learning_rate, momentum, batch_size, epochs: mini-batch SGD with
            classical momentum, the same for both layers (epochs per layer).
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

    def __init__(self, n_hidden1=500, n_hidden2=500, learning_rate=0.05,
                 momentum=0.9, batch_size=100, epochs=15, C=100.0,
                 kernel_width=6.26, scale_inputs=False, device="auto",
                 n_threads=None, random_state=None):
        self.n_hidden1 = n_hidden1
        self.n_hidden2 = n_hidden2
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.epochs = epochs
        self.C = C
        self.kernel_width = kernel_width
        self.scale_inputs = scale_inputs
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state

    # Subclasses return one engine.LayerRegularizer per layer.
    def _regularizers(self, engine) -> tuple:
        raise NotImplementedError

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
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64])
        check_classification_targets(y)
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
        with _torch_threads(torch, self.n_threads):
            layers, histories = engine.train_stack(
                X, (self.n_hidden1, self.n_hidden2), regularizers, sgd,
                random_state, torch.device(self.device_),
            )
        self.encoder_weights_ = [layer.W.cpu().numpy() for layer in layers]
        self.encoder_biases_ = [layer.b.cpu().numpy() for layer in layers]
        self.decoder_biases_ = [layer.c.cpu().numpy() for layer in layers]
        self.loss_history_ = histories
        self.head_ = KELMClassifier(C=self.C, kernel_width=self.kernel_width)
        self.head_.fit(self._features(X), y)
        self.classes_ = self.head_.classes_
        return self

    def _validate(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        return self._scale(np.array(X, dtype=np.float32))

    def _features(self, X: np.ndarray) -> np.ndarray:
        def encode(block):
            for W, b in zip(self.encoder_weights_, self.encoder_biases_, strict=True):
                block = expit(block @ W.T + b)  # eqs. 7 and 10: no mask, no noise
            return block

        return block_apply(encode, X)

    def transform(self, X) -> np.ndarray:
        """Top-layer (layer-2) features, the KELM head's input."""
        return self._features(self._validate(X))

    def reconstruct(self, X) -> np.ndarray:
        """Layer-1 reconstruction s(W1ᵀ s(W1 x + b1) + c1), in the input scale."""
        X = self._validate(X)
        W, b = self.encoder_weights_[0], self.encoder_biases_[0]
        c = self.decoder_biases_[0]
        Z = block_apply(lambda block: expit(expit(block @ W.T + b) @ W + c), X)
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


def select_with_shared_training(*, X_fit, y_fit, X_val, y_val, grid, fixed_params,
                                random_state, factory):
    """Train each autoencoder once, then score every head setting on its features.

    A grid point's autoencoder depends only on the non-head parameters (and
    the seed), so points that differ only in the head share one training; the
    head grid is scored by KELM's own ``select`` on the layer-2 features.
    """
    head_grid = {k: v for k, v in grid.items() if k in HEAD_PARAMS}
    body_grid = {k: v for k, v in grid.items() if k not in HEAD_PARAMS}
    scored = []
    for body in ParameterGrid(body_grid):
        model = factory(**{**fixed_params, **body, "random_state": random_state})
        model.fit(X_fit, y_fit)
        head_fixed = {k: getattr(model, k) for k in HEAD_PARAMS if k not in head_grid}
        features_fit, features_val = model.transform(X_fit), model.transform(X_val)
        for head, score in score_kelm_grid(
                X_fit=features_fit, y_fit=y_fit, X_val=features_val, y_val=y_val,
                grid=head_grid, fixed_params=head_fixed, random_state=None):
            scored.append(({**body, **head}, score))
    return scored


def autoencoder_spec(name, factory, search_space, description, defaults=None):
    """The ``AlgorithmSpec`` every autoencoder plugin registers."""
    import benchbase

    return benchbase.AlgorithmSpec(
        name=name,
        family="AE",
        factory=factory,
        defaults=dict(defaults or {}),
        search_space=search_space,
        randomized=True,
        reconstructs=True,
        description=description,
        requires=("torch",),
        install_hint=INSTALL_HINT,
        score_grid=functools.partial(select_with_shared_training, factory=factory),
    )
