"""SAE: the stacked autoencoder with a KL sparsity penalty on both layers."""

from __future__ import annotations

import benchbase
from benchbase_ae._estimator import (
    StackedAutoencoderClassifier,
    autoencoder_spec,
    head_search_space,
)

#: Chosen in docs/autoencoders.md (pilot on MNIST validation data).
SEARCH = {**head_search_space(), "sparsity_weight": [0.03, 0.1, 0.3]}


class SAEClassifier(StackedAutoencoderClassifier):
    """Sparse stacked autoencoder + KELM.

    Each layer adds β Σ_j KL(ρ ‖ ρ̂_j) to its loss, ρ̂_j the mean activation of
    hidden unit j over the mini-batch. The paper does not say which layers are
    sparse; both are (NOTES.md §2).

    Parameters (besides ``StackedAutoencoderClassifier``'s):
        sparsity_target: ρ, the target mean activation, in (0, 1).
        sparsity_weight: β ≥ 0.
    """

    def __init__(self, sparsity_target=0.05, sparsity_weight=0.1, n_hidden1=500,
                 n_hidden2=500, learning_rate=0.05, momentum=0.9, batch_size=100,
                 epochs=15, C=100.0, kernel_width=6.26, scale_inputs=False,
                 device="auto", n_threads=None, random_state=None):
        super().__init__(
            n_hidden1=n_hidden1, n_hidden2=n_hidden2, learning_rate=learning_rate,
            momentum=momentum, batch_size=batch_size, epochs=epochs, C=C,
            kernel_width=kernel_width, scale_inputs=scale_inputs, device=device,
            n_threads=n_threads, random_state=random_state,
        )
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight

    def _regularizers(self, engine):
        reg = engine.LayerRegularizer(sparsity_target=self.sparsity_target,
                                      sparsity_weight=self.sparsity_weight)
        return (reg, reg)


@benchbase.hookimpl
def benchbase_register_algorithms():
    return [autoencoder_spec("SAE", SAEClassifier, SEARCH,
                             "Sparse stacked autoencoder (KL sparsity penalty) + KELM")]
