"""Protocols (which train/test data a trial uses) and validation splits.

* ``official``: the dataset's own train/test split.
* ``paper``: the paper's protocol, the dataset's ``paper_subset`` sizes drawn at
  random (not the first N) from the official train and test parts, anew for
  every seed; the official split where the paper used it (``paper_subset`` is
  None).
* ``subset:TRAIN/TEST``: random subsets of those sizes, for learning curves.

Every algorithm sees the same subset and the same validation split for the same
seed, so their results are paired. Validation data are always carved from the
training part only, stratified by class.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re

import numpy as np

from benchbase.specs import Dataset, DatasetSpec

VALIDATION_FRACTION = 0.2
_SUBSET_RE = re.compile(r"^subset:(\d+)/(\d+)$")
# Distinct streams from one seed, so subsets and validation splits don't correlate.
_SUBSET_STREAM, _VALIDATION_STREAM = 1, 2


@dataclasses.dataclass(frozen=True)
class Protocol:
    name: str
    sizes: tuple[int, int] | None = None  # None: the official split, whole

    @classmethod
    def parse(cls, text: str) -> Protocol:
        if text in ("official", "paper"):
            return cls(text)
        match = _SUBSET_RE.match(text)
        if not match:
            raise ValueError(
                f"unknown protocol {text!r}; use 'official', 'paper' or "
                "'subset:TRAIN/TEST' (e.g. subset:6000/1000)"
            )
        n_train, n_test = int(match[1]), int(match[2])
        if n_train < 2 or n_test < 1:
            raise ValueError(f"protocol {text!r}: need TRAIN >= 2 and TEST >= 1")
        return cls(text, (n_train, n_test))

    def __str__(self) -> str:
        return self.name


@dataclasses.dataclass(frozen=True)
class Split:
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    indices_hash: str  # identifies exactly which rows were used
    image_shape: tuple[int, ...]


def _hash_indices(train_idx: np.ndarray, test_idx: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(train_idx, dtype="<i8").tobytes())
    digest.update(b"|")
    digest.update(np.ascontiguousarray(test_idx, dtype="<i8").tobytes())
    return digest.hexdigest()[:16]


def subset_sizes(protocol: Protocol, spec: DatasetSpec) -> tuple[int, int] | None:
    """(n_train, n_test) drawn at random for every seed; None: the official split."""
    return spec.paper_subset if protocol.name == "paper" else protocol.sizes


def split_indices(data: Dataset, sizes: tuple[int, int] | None, seed: int
                  ) -> tuple[np.ndarray, np.ndarray, str]:
    """The rows of the train and test parts a trial uses, and their hash."""
    n_train_all, n_test_all = len(data.y_train), len(data.y_test)
    if sizes is None:
        train_idx, test_idx = np.arange(n_train_all), np.arange(n_test_all)
    else:
        n_train, n_test = sizes
        if n_train > n_train_all or n_test > n_test_all:
            raise ValueError(
                f"a subset of {n_train} train / {n_test} test samples: dataset "
                f"{data.name!r} has only {n_train_all} train / {n_test_all} test samples"
            )
        rng = np.random.default_rng([seed, _SUBSET_STREAM])
        train_idx = np.sort(rng.choice(n_train_all, n_train, replace=False))
        test_idx = np.sort(rng.choice(n_test_all, n_test, replace=False))
    return train_idx, test_idx, _hash_indices(train_idx, test_idx)


def take_split(data: Dataset, sizes: tuple[int, int] | None, seed: int) -> Split:
    """The train/test data of ``split_indices``."""
    train_idx, test_idx, indices_hash = split_indices(data, sizes, seed)
    return Split(
        data.X_train[train_idx], data.y_train[train_idx],
        data.X_test[test_idx], data.y_test[test_idx],
        indices_hash, data.image_shape,
    )


def validation_size(n_train: int, fraction: float = VALIDATION_FRACTION) -> int:
    """Rows ``validation_split`` sets aside (scikit-learn rounds a fraction up)."""
    return math.ceil(fraction * n_train)


def validation_split(X: np.ndarray, y: np.ndarray, seed: int,
                     fraction: float = VALIDATION_FRACTION):
    """(X_fit, X_val, y_fit, y_val), stratified by class where possible."""
    from sklearn.model_selection import train_test_split  # heavy: not at CLI start

    random_state = int(np.random.default_rng([seed, _VALIDATION_STREAM])
                       .integers(2**31 - 1))
    try:
        return train_test_split(X, y, test_size=fraction, stratify=y,
                                random_state=random_state)
    except ValueError:  # a class with a single sample cannot be stratified
        return train_test_split(X, y, test_size=fraction, random_state=random_state)
