"""AE: a 2-layer stacked tied-weight autoencoder, no regularizer, KELM on top."""

from __future__ import annotations

import benchbase
from benchbase_ae._estimator import (
    StackedAutoencoderClassifier,
    autoencoder_spec,
    head_search_space,
)

#: No regularizer to tune: only the head's width (docs/autoencoders.md).
SEARCH = head_search_space()


class AEClassifier(StackedAutoencoderClassifier):
    """Plain stacked autoencoder + KELM; see ``StackedAutoencoderClassifier``."""

    def _regularizers(self, engine):
        return (engine.LayerRegularizer(), engine.LayerRegularizer())


@benchbase.hookimpl
def benchbase_register_algorithms():
    return [autoencoder_spec("AE", AEClassifier, SEARCH,
                             "Stacked autoencoder (2 tied-weight layers) + KELM")]
