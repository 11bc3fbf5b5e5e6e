"""What ELM-AE, ML-ELM and H-ELM share: benchbase_elm's classifier plumbing
(validation, one-hot targets, labels) and their own parameter checks."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from benchbase_elm import LabelTargetsMixin, check_positive


class ELMStackClassifier(LabelTargetsMixin, BaseEstimator):
    """Base of the three: ``_decision(X)`` gives per-class scores."""

    @staticmethod
    def _check_widths(name: str, widths) -> None:
        if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__") \
                or len(widths) == 0:
            raise ValueError(f"{name} must be a non-empty sequence of layer widths, "
                             f"got {widths!r}")
        for width in widths:
            check_positive(name, width, integer=True)

    @staticmethod
    def _signed(targets: np.ndarray) -> np.ndarray:
        """One-hot rows as ±1 (H-ELM's and ML-ELM's targets: 2·onehot − 1)."""
        return 2 * targets - 1
