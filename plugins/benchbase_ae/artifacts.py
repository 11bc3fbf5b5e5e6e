"""What an autoencoder trial keeps for the reconstruction experiment (paper §3.3.1).

The paper shows layer-1 weights as image tiles (its Fig. 3.5) and
reconstructed test images (Fig. 3.6); benchbase also measures the test
reconstruction error. Every autoencoder of a seed reconstructs the same test
images (the first of each class), so their pictures line up side by side.
"""

from __future__ import annotations

import numpy as np
from scipy.special import rel_entr

#: Layer-1 filters kept per trial: units 0..N-1 (a fixed sample, not a choice).
N_FILTERS = 100


def first_of_each_class(y: np.ndarray) -> np.ndarray:
    """Index of the first example of every class, in class order."""
    _, first = np.unique(y, return_index=True)
    return first


def reconstruction_kl(X: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Per image Σ_pixels KL(x ‖ z) of Bernoulli pixels: the training loss (eq. 5)."""
    X = np.clip(np.asarray(X, dtype=np.float64), 0.0, 1.0)
    Z = np.clip(np.asarray(Z, dtype=np.float64), 1e-7, 1 - 1e-7)
    return (rel_entr(X, Z) + rel_entr(1 - X, 1 - Z)).sum(axis=1)


def trial_artifacts(model, X_test: np.ndarray, y_test: np.ndarray) -> dict[str, np.ndarray]:
    """Filters, reconstructions of fixed test images, and the test reconstruction error."""
    reconstructed = model.reconstruct(X_test)
    kl = reconstruction_kl(X_test, reconstructed)
    shown = first_of_each_class(y_test)
    return {
        "filters": model.encoder_weights_[0][:N_FILTERS],
        "recon_index": shown,
        "recon_input": np.asarray(X_test[shown], dtype=np.float32),
        "recon_output": np.asarray(reconstructed[shown], dtype=np.float32),
        "recon_kl": kl[shown],
        # Means over the whole test set: KL per image, squared error per pixel.
        "recon_error_kl": np.float64(kl.mean()),
        "recon_error_mse": np.float64(np.mean((reconstructed - X_test) ** 2)),
    }
