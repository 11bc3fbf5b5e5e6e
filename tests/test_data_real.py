"""The real MNIST and USPS files (and Fashion-MNIST when present).

Run with ``BENCHBASE_DATA=/path/to/data pytest -m data``; the folder is laid out
like ``../shared/data`` (``<root>/mnist/...``, ``<root>/usps/...``). The expected
values are those of ``../shared/data/README.md``, written out here independently
of the plugins' own constants.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from data_builders import flip_byte

from benchbase import DataContext, data
from benchbase.cli import data_command

pytestmark = [
    pytest.mark.data,
    pytest.mark.skipif(not os.environ.get(data.ENV_DATA),
                       reason="set BENCHBASE_DATA to a folder with mnist/ and usps/ "
                       "(e.g. ../shared/data) to run the real-data tests"),
]

SHA256 = {
    ("mnist", "train-images-idx3-ubyte.gz"):
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ("mnist", "train-labels-idx1-ubyte.gz"):
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ("mnist", "t10k-images-idx3-ubyte.gz"):
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ("mnist", "t10k-labels-idx1-ubyte.gz"):
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ("usps", "zip.train.gz"):
        "66ebf231ab51f2cf6ac1a892d0f98ccffee1079d7a5db638c1f11f366046ca16",
    ("usps", "zip.test.gz"):
        "8dacc3c6e136af6c3488de9e5113a7daf140c8c2f1f0b61c54ee02f03f1a962f",
}
COUNTS = {
    "mnist": ([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
              [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]),
    "usps": ([1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644],
             [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]),
}
SHAPES = {"mnist": (60_000, 10_000, (28, 28)), "usps": (7_291, 2_007, (16, 16))}
# README: MNIST train pixel mean 33.3184 / 255; USPS train mean -0.4910 in [-1, 1].
TRAIN_MEAN = {"mnist": 33.3184 / 255, "usps": (-0.4910 + 1) / 2}


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    return DataContext(allow_download=False,
                       cache_dir=str(tmp_path_factory.mktemp("cache")))


def _real_path(dataset: str, name: str) -> str:
    for root in os.environ[data.ENV_DATA].split(os.pathsep):
        path = os.path.join(root, dataset, name)
        if os.path.isfile(path):
            return path
    pytest.fail(f"{dataset}/{name} is not under BENCHBASE_DATA")


@pytest.mark.parametrize("dataset, name", sorted(SHA256))
def test_checksums(dataset, name, catalog):
    with open(_real_path(dataset, name), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == SHA256[dataset, name]
    declared = {f.name: f.sha256 for s in catalog.dataset(dataset).sources
                for f in s.files}
    assert declared[name] == (SHA256[dataset, name],)


@pytest.mark.parametrize("name", ["mnist", "usps"])
def test_shapes_label_counts_and_pixels(name, catalog, context):
    dataset = catalog.dataset(name).load(context)
    n_train, n_test, image_shape = SHAPES[name]
    n_features = int(np.prod(image_shape))
    assert dataset.X_train.shape == (n_train, n_features)
    assert dataset.X_test.shape == (n_test, n_features)
    assert dataset.image_shape == image_shape
    assert dataset.X_train.dtype == np.float32 and dataset.y_train.dtype == np.int64
    train_counts, test_counts = COUNTS[name]
    assert np.bincount(dataset.y_train).tolist() == train_counts
    assert np.bincount(dataset.y_test).tolist() == test_counts
    assert dataset.X_train.min() == 0.0 and dataset.X_train.max() == 1.0
    assert dataset.X_train.mean(dtype=np.float64) == pytest.approx(TRAIN_MEAN[name],
                                                                   abs=1e-4)


@pytest.mark.parametrize("name", ["mnist", "usps"])
def test_cached_load_is_fast(name, catalog, context):
    spec = catalog.dataset(name)
    first = spec.load(context)  # decodes unless an earlier test already did
    start = time.perf_counter()
    again = spec.load(context)
    assert time.perf_counter() - start < 1.0
    assert isinstance(again.X_train, np.memmap)
    np.testing.assert_array_equal(first.y_test, again.y_test)


def _copy(tmp_path, dataset: str) -> Path:
    """A copy of ``dataset``'s real files, to damage; returns the copy's root."""
    target = tmp_path / "copy" / dataset
    target.mkdir(parents=True)
    for known, name in SHA256:
        if known == dataset:
            shutil.copyfile(_real_path(dataset, name), target / name)
    return tmp_path / "copy"


@pytest.mark.parametrize("name, damaged", [
    ("mnist", "t10k-images-idx3-ubyte.gz"), ("usps", "zip.test.gz")])
@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_copy_is_refused(tmp_path, catalog, name, damaged, damage):
    root = _copy(tmp_path, name)
    path = root / name / damaged
    if damage == "flip":
        flip_byte(path, path.stat().st_size // 2)
    else:
        with open(path, "r+b") as f:
            f.truncate(path.stat().st_size - 100)
    context = DataContext(data_dir=str(root), allow_download=False,
                          cache_dir=str(tmp_path / "cache"))
    with pytest.raises(data.ChecksumError) as info:
        catalog.dataset(name).load(context)
    assert str(path) in str(info.value) and SHA256[name, damaged] in str(info.value)
    # The parser refuses it on its own too (checksums aside).
    with pytest.raises(data.DataError, match="gzip"):
        data.read_bytes(path)


def test_cli_verify_reports_both_verified(capsys, context, monkeypatch):
    monkeypatch.setenv(data.ENV_CACHE, context.cache_dir)
    parser = argparse.ArgumentParser(prog="benchbase")
    data_command.add_data_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["data", "verify"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "mnist: verified: 4 files (idx)" in out
    assert "usps: verified: 2 files (esl-text)" in out


def test_fashion_mnist(catalog, context):
    roots = os.environ[data.ENV_DATA].split(os.pathsep)
    if not any(os.path.isdir(os.path.join(r, "fashion-mnist")) for r in roots):
        pytest.skip("no fashion-mnist/ folder under BENCHBASE_DATA")
    dataset = catalog.dataset("fashion-mnist").load(context)
    assert dataset.X_train.shape == (60_000, 784)
    assert np.bincount(dataset.y_train).tolist() == [6000] * 10
    assert np.bincount(dataset.y_test).tolist() == [1000] * 10
    assert dataset.X_train.mean(dtype=np.float64) == pytest.approx(0.2860, abs=1e-4)
