"""AE: a 2-layer stacked tied-weight autoencoder, no regularizer, KELM on top."""

from __future__ import annotations

import benchbase
from benchbase_ae._estimator import StackedAutoencoderClassifier, autoencoder_spec


class AEClassifier(StackedAutoencoderClassifier):
    """Plain stacked autoencoder + KELM; see ``StackedAutoencoderClassifier``."""

    def _regularizers(self, engine):
        return (engine.LayerRegularizer(), engine.LayerRegularizer())


@benchbase.hookimpl
def benchbase_register_algorithms():
    return [autoencoder_spec("AE", AEClassifier, {},
                             "Stacked autoencoder (2 tied-weight layers) + KELM")]
