"""digits: scikit-learn's bundled 8×8 handwritten digits, the embedded offline default."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import benchbase

#: digits has no official split; this fixed, stratified one stands in for it.
TEST_FRACTION = 0.2
SPLIT_SEED = 0


def load(context: benchbase.DataContext) -> benchbase.Dataset:
    bunch = load_digits()
    X = (bunch.data / 16.0).astype(np.float32)  # pixel values are 0..16
    y = bunch.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=y
    )
    return benchbase.Dataset("digits", X_train, y_train, X_test, y_test, (8, 8))


@benchbase.hookimpl
def benchbase_register_datasets():
    return [
        benchbase.DatasetSpec(
            name="digits",
            load=load,
            description="scikit-learn's 1,797 8×8 digits (UCI); fixed stratified "
            "80/20 split; embedded, offline",
            embedded=True,
            classes=range(10),
        )
    ]
