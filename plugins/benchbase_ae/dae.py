"""DAE: the stacked autoencoder trained to denoise (masking noise) on both layers."""

from __future__ import annotations

import benchbase
from benchbase_ae._estimator import autoencoder_spec


@benchbase.hookimpl
def benchbase_register_algorithms():
    # Noise levels chosen in docs/autoencoders.md (pilot on MNIST validation data).
    return [autoencoder_spec(
        "DAE", "Stacked denoising autoencoder (masking noise) + KELM",
        defaults={"noise_level": 0.1},
        searched={"noise_level": [0.1, 0.2, 0.3]})]
