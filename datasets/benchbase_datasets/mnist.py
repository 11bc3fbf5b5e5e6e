"""mnist: LeCun, Cortes and Burges' handwritten digits, 60,000 / 10,000, 28×28.

The four canonical IDX gz files (the original release, byte for byte), from
two public mirrors of the original site.
"""

from __future__ import annotations

import benchbase
from benchbase import data

NAME = "mnist"
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


def _file(name: str, sha256: str, size: int) -> data.FileSpec:
    return data.FileSpec(name, sha256, size, tuple(m + name for m in MIRRORS))


SOURCE = data.FileSource("idx", [
    _file("train-images-idx3-ubyte.gz",
          "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
          9_912_422),
    _file("train-labels-idx1-ubyte.gz",
          "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
          28_881),
    _file("t10k-images-idx3-ubyte.gz",
          "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
          1_648_877),
    _file("t10k-labels-idx1-ubyte.gz",
          "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
          4_542),
])


@benchbase.hookimpl
def benchbase_register_datasets():
    return [
        data.idx_dataset_spec(
            NAME, SOURCE, n_classes=10,
            description="MNIST handwritten digits, 60,000 train / 10,000 test, "
            "28×28; paper protocol: random 6,000 / 1,000 per seed",
            paper_subset=(6000, 1000),
            homepage="https://yann.lecun.com/exdb/mnist/",
        )
    ]
