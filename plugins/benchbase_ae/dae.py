"""DAE: the stacked autoencoder trained to denoise (masking noise) on both layers."""

from __future__ import annotations

import benchbase
from benchbase_ae._estimator import (
    StackedAutoencoderClassifier,
    autoencoder_spec,
    head_search_space,
)

#: Chosen in docs/autoencoders.md (pilot on MNIST validation data).
SEARCH = {**head_search_space(), "noise_level": [0.1, 0.2, 0.3]}


class DAEClassifier(StackedAutoencoderClassifier):
    """Stacked denoising autoencoder + KELM.

    While a layer trains, each of its inputs is zeroed with probability
    ``noise_level`` (masking noise, Vincent et al. 2008) and the layer learns to
    reconstruct the clean input. Layer 2's input is layer 1's clean features,
    corrupted the same way (the paper does not say; both layers denoise,
    NOTES.md §2). Features at inference use clean inputs.

    Parameters (besides ``StackedAutoencoderClassifier``'s):
        noise_level: probability of zeroing each input, in [0, 1).
    """

    def __init__(self, noise_level=0.1, n_hidden1=500, n_hidden2=500,
                 learning_rate=0.05, momentum=0.9, batch_size=100, epochs=15,
                 C=100.0, kernel_width=6.26, scale_inputs=False, device="auto",
                 n_threads=None, random_state=None):
        super().__init__(
            n_hidden1=n_hidden1, n_hidden2=n_hidden2, learning_rate=learning_rate,
            momentum=momentum, batch_size=batch_size, epochs=epochs, C=C,
            kernel_width=kernel_width, scale_inputs=scale_inputs, device=device,
            n_threads=n_threads, random_state=random_state,
        )
        self.noise_level = noise_level

    def _regularizers(self, engine):
        reg = engine.LayerRegularizer(noise_level=self.noise_level)
        return (reg, reg)


@benchbase.hookimpl
def benchbase_register_algorithms():
    return [autoencoder_spec("DAE", DAEClassifier, SEARCH,
                             "Stacked denoising autoencoder (masking noise) + KELM")]
