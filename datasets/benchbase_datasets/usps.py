"""usps: US Postal Service handwritten digits, 7,291 train / 2,007 test, 16×16.

Read from either public container of the same data:

* ``esl-text``: ``zip.train.gz`` / ``zip.test.gz`` from *The Elements of
  Statistical Learning*: per line a label 0..9, then 256 pixels in [-1, 1];
* ``libsvm``: ``usps.bz2`` / ``usps.t.bz2`` from the LIBSVM data sets: labels
  1..10 (the digit plus one), then ``index:value`` pixels in [-1, 1]. LIBSVM
  publishes no sha256; these files are checked by the md5 widely used for them.

Pixels are mapped to [0, 1] (ink is bright, as in MNIST). The paper used the
official split, so ``paper`` protocol = ``official``.
"""

from __future__ import annotations

import numpy as np

import benchbase
from benchbase import data

NAME = "usps"
N_PIXELS = 256
IMAGE_SHAPE = (16, 16)
ESL = "https://hastie.su.domains/ElemStatLearn/datasets/"
LIBSVM = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/"

ESL_SOURCE = data.FileSource("esl-text", [
    data.FileSpec(
        "zip.train.gz",
        "66ebf231ab51f2cf6ac1a892d0f98ccffee1079d7a5db638c1f11f366046ca16",
        1_829_071, (ESL + "zip.train.gz",)),
    data.FileSpec(
        "zip.test.gz",
        "8dacc3c6e136af6c3488de9e5113a7daf140c8c2f1f0b61c54ee02f03f1a962f",
        439_208, (ESL + "zip.test.gz",)),
])
LIBSVM_SOURCE = data.FileSource("libsvm", [
    data.FileSpec("usps.bz2", urls=(LIBSVM + "usps.bz2",),
                  md5="ec16c51db3855ca6c91edd34d0e9b197"),
    data.FileSpec("usps.t.bz2", urls=(LIBSVM + "usps.t.bz2",),
                  md5="8ea070ee2aca1ac39742fdd1ef5ed118"),
])
SOURCES = (ESL_SOURCE, LIBSVM_SOURCE)


def read_esl(path) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 16, 16) in [0, 1], labels 0..9) from an ESL zip file."""
    table = data.read_dense_text(path, 1 + N_PIXELS)
    return _images(path, table[:, 1:]), data.to_labels(path, table[:, 0], 0, 9)


def read_libsvm(path) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 16, 16) in [0, 1], labels 0..9) from a LIBSVM usps file."""
    X, labels = data.read_libsvm(path, N_PIXELS)
    return _images(path, X), data.to_labels(path, labels, 1, 10)


def _images(path, pixels: np.ndarray) -> np.ndarray:
    return data.to_unit(path, pixels, -1.0, 1.0).reshape(-1, *IMAGE_SHAPE)


READERS = {ESL_SOURCE.label: read_esl, LIBSVM_SOURCE.label: read_libsvm}


def load(context: benchbase.DataContext) -> benchbase.Dataset:
    found = data.locate(NAME, SOURCES, context)
    train, test = (found.paths[spec.name] for spec in found.source.files)
    read = READERS[found.source.label]

    def build():
        (X_train, y_train), (X_test, y_test) = read(train), read(test)
        return {"X_train": X_train, "y_train": y_train,
                "X_test": X_test, "y_test": y_test}

    arrays = data.cached_arrays(f"{NAME}-{found.source.label}", [train, test],
                                build, context)
    return data.dataset_from_arrays(NAME, arrays)


@benchbase.hookimpl
def benchbase_register_datasets():
    return [
        benchbase.DatasetSpec(
            name=NAME,
            load=load,
            description="USPS handwritten digits, 7,291 train / 2,007 test, "
            "16×16 (ESL text or LIBSVM files); paper protocol: official split",
            paper_subset=None,
            sources=SOURCES,
            homepage="https://hastie.su.domains/ElemStatLearn/data.html",
            classes=range(10),
        )
    ]
