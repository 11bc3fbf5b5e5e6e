"""fashion-mnist: Zalando's article images, 60,000 / 10,000, 28×28, 10 classes.

Upstream's gz files and Debian's re-gzipped copies (package
``dataset-fashion-mnist``, files in ``/usr/share/datasets/fashion-mnist``)
differ as files but hold the same IDX bytes, so each file is accepted by its
Debian sha256 or by the sha256 of its decompressed content.
"""

from __future__ import annotations

import benchbase
from benchbase import data

NAME = "fashion-mnist"
MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"


def _file(name: str, debian_sha256: str, content_sha256: str) -> data.FileSpec:
    # The upstream gz's own sha256 is not recorded here; its content is.
    return data.FileSpec(name, debian_sha256, urls=(MIRROR + name,),
                         content_sha256=content_sha256)


SOURCE = data.FileSource("idx", [
    _file("train-images-idx3-ubyte.gz",
          "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
          "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    _file("train-labels-idx1-ubyte.gz",
          "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
          "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    _file("t10k-images-idx3-ubyte.gz",
          "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
          "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    _file("t10k-labels-idx1-ubyte.gz",
          "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
          "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
])


@benchbase.hookimpl
def benchbase_register_datasets():
    return [
        data.idx_dataset_spec(
            NAME, SOURCE, n_classes=10,
            description="Fashion-MNIST article images, 60,000 train / 10,000 "
            "test, 28×28, 10 classes",
            paper_subset=(6000, 1000),
            homepage="https://github.com/zalandoresearch/fashion-mnist",
        )
    ]
