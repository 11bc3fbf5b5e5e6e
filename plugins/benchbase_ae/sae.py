"""SAE: the stacked autoencoder with a KL sparsity penalty on both layers."""

from __future__ import annotations

import benchbase
from benchbase_ae._estimator import autoencoder_spec


@benchbase.hookimpl
def benchbase_register_algorithms():
    # β chosen in docs/autoencoders.md (pilot on MNIST validation data).
    return [autoencoder_spec(
        "SAE", "Sparse stacked autoencoder (KL sparsity penalty) + KELM",
        defaults={"sparsity_weight": 0.1},
        searched={"sparsity_weight": [0.03, 0.1, 0.3]})]
