"""DDAE: DropConnect on layer 1's encoder weights (paper eqs. 2-10), layer 2 plain."""

from __future__ import annotations

import benchbase
from benchbase_ae._estimator import (
    StackedAutoencoderClassifier,
    autoencoder_spec,
    head_search_space,
)

#: Chosen in docs/autoencoders.md (pilot on MNIST validation data).
SEARCH = {**head_search_space(), "keep_prob": [0.5, 0.75]}


class DDAEClassifier(StackedAutoencoderClassifier):
    """DropConnect deep autoencoder + KELM (the paper's proposal).

    Layer 1 trains with y = s((M ∘ W1) x / p + b1), M ~ Bernoulli(p) per weight
    (eqs. 2-3); the decoder uses the unmasked W1ᵀ (eq. 4). Kept weights are
    scaled by 1/p during training ("inverted" DropConnect) so that features at
    inference are exactly eq. 7, s(W1 x + b1), with no mask and no rescaling.
    Layer 2 is a plain autoencoder (eqs. 8-10).

    Parameters (besides ``StackedAutoencoderClassifier``'s):
        keep_prob: p, the probability of keeping a weight, in (0, 1]
            (the paper's dropconnectFraction is 1 − p).
        mask: "sample" (default, the paper's: a fresh mask per sample) or
            "batch" (one mask per mini-batch, cheaper). Reported in results
            through the parameters.
        mask_chunk_mb: with mask="sample", samples are processed in chunks
            whose masks take at most this many MiB of memory.
    """

    def __init__(self, keep_prob=0.5, mask="sample", mask_chunk_mb=32.0,
                 n_hidden1=500, n_hidden2=500, learning_rate=0.05, momentum=0.9,
                 batch_size=100, epochs=15, C=100.0, kernel_width=6.26,
                 scale_inputs=False, device="auto", n_threads=None,
                 random_state=None):
        super().__init__(
            n_hidden1=n_hidden1, n_hidden2=n_hidden2, learning_rate=learning_rate,
            momentum=momentum, batch_size=batch_size, epochs=epochs, C=C,
            kernel_width=kernel_width, scale_inputs=scale_inputs, device=device,
            n_threads=n_threads, random_state=random_state,
        )
        self.keep_prob = keep_prob
        self.mask = mask
        self.mask_chunk_mb = mask_chunk_mb

    def _regularizers(self, engine):
        return (
            engine.LayerRegularizer(keep_prob=self.keep_prob, mask=self.mask,
                                    mask_chunk_mb=self.mask_chunk_mb),
            engine.LayerRegularizer(),
        )


@benchbase.hookimpl
def benchbase_register_algorithms():
    return [autoencoder_spec("DDAE", DDAEClassifier, SEARCH,
                             "DropConnect deep autoencoder (layer 1) + KELM")]
