"""AE: a 2-layer stacked tied-weight autoencoder, no regularizer, KELM on top."""

from __future__ import annotations

import benchbase
from benchbase_ae._estimator import autoencoder_spec


@benchbase.hookimpl
def benchbase_register_algorithms():
    # No regularizer to tune: only the head's width (docs/autoencoders.md).
    return [autoencoder_spec("AE", "Stacked autoencoder (2 tied-weight layers) + KELM")]
