"""DDAE: DropConnect on layer 1's encoder weights (paper eqs. 2-10), layer 2 plain."""

from __future__ import annotations

import benchbase
from benchbase_ae._estimator import autoencoder_spec


@benchbase.hookimpl
def benchbase_register_algorithms():
    # p = 0.5 is Wan et al.'s default, 0.75 a milder setting (docs/autoencoders.md);
    # the mask is drawn per sample, as in the paper (the estimator's default).
    return [autoencoder_spec(
        "DDAE", "DropConnect deep autoencoder (layer 1) + KELM",
        defaults={"keep_prob": 0.5},
        searched={"keep_prob": [0.5, 0.75]},
        # Without Numba the per-sample masks run through torch: several times slower.
        accelerators={"numba": "the fused per-sample DropConnect kernels"})]
