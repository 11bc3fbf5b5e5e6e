"""The dataset plugins and the ``idx:PATH`` resolver, through the plugin catalog."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from data_builders import idx_bytes, idx_folder, sha256, toy_images, write

import benchbase
from benchbase import DataContext, data
from benchbase.plugins import UnknownNameError

pytestmark = pytest.mark.usefixtures("isolated")


def test_builtin_datasets_are_registered(catalog):
    assert {"mnist", "usps", "fashion-mnist", "digits"} <= set(catalog.datasets)
    assert not catalog.problems
    assert catalog.dataset("mnist").paper_subset == (6000, 1000)
    assert catalog.dataset("usps").paper_subset is None
    assert [s.label for s in catalog.dataset("usps").sources] == ["esl-text",
                                                                  "libsvm"]


def test_every_file_based_builtin_dataset_is_downloadable(catalog):
    for spec in catalog.datasets.specs():
        if not spec.embedded and catalog.datasets.plugin_of(spec.name).builtin:
            assert spec.sources, spec.name
            assert all(f.urls for f in spec.sources[0].files), spec.name


@pytest.mark.parametrize("compress", ["gz", ""])
def test_idx_folder_round_trip(tmp_path, catalog, compress):
    folder = idx_folder(tmp_path / "my data", compress)
    spec = catalog.dataset(f"idx:{folder}")
    assert spec.name.startswith("idx-my_data-")
    dataset = spec.load(DataContext())
    images, labels = toy_images(12, seed=1)
    assert dataset.image_shape == (4, 3)
    expected = images.reshape(12, -1) / np.float32(255)
    np.testing.assert_array_equal(dataset.X_train, expected)
    np.testing.assert_array_equal(dataset.y_train, labels)
    assert dataset.X_test.shape == (6, 12)


def test_idx_folders_with_the_same_name_get_different_dataset_names(tmp_path, catalog):
    a = idx_folder(tmp_path / "a" / "digits")
    b = idx_folder(tmp_path / "b" / "digits")
    assert catalog.dataset(f"idx:{a}").name != catalog.dataset(f"idx:{b}").name


def test_idx_folder_edits_are_seen(tmp_path, catalog):
    folder = idx_folder(tmp_path / "d", compress="")
    spec = catalog.dataset(f"idx:{folder}")
    spec.load(DataContext())
    images, _ = toy_images(12, seed=9)
    write(folder / "train-images-idx3-ubyte", idx_bytes(images))
    np.testing.assert_array_equal(spec.load(DataContext()).X_train,
                                  images.reshape(12, -1) / np.float32(255))


def test_idx_folder_missing_file(tmp_path, catalog):
    folder = idx_folder(tmp_path / "d")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataError, match=r"test labels file named t10k-labels\*"):
        catalog.dataset(f"idx:{folder}").load(DataContext())


def test_idx_folder_ambiguous_files(tmp_path, catalog):
    folder = idx_folder(tmp_path / "d")
    idx_folder(folder, compress="")  # now both .gz and plain copies
    with pytest.raises(data.DataError, match="need exactly one train images"):
        catalog.dataset(f"idx:{folder}").load(DataContext())


def test_idx_folder_train_and_test_shapes_must_agree(tmp_path, catalog):
    folder = idx_folder(tmp_path / "d", compress="")
    write(folder / "t10k-images-idx3-ubyte", idx_bytes(toy_images(6, shape=(3, 3))[0]))
    with pytest.raises(data.DataError, match=r"shape \(4, 3\) but"):
        catalog.dataset(f"idx:{folder}").load(DataContext())


def test_idx_path_that_is_no_folder(tmp_path, catalog):
    with pytest.raises(data.DataError, match="no such folder"):
        catalog.dataset(f"idx:{tmp_path / 'absent'}")


def test_other_unknown_names_stay_unknown(catalog):
    with pytest.raises(UnknownNameError):
        catalog.dataset("no-such-dataset")


def test_dataset_spec_sources_must_be_file_sources():
    with pytest.raises(TypeError, match="sources must be FileSource"):
        benchbase.DatasetSpec("x", lambda context: None, sources=["a.gz"])


def _shapes_npz(path):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 60), ("test", 30)):
        y = np.arange(n) % 3
        X = np.zeros((n, 8, 8), np.float32)
        for row, label in enumerate(y):  # a bar whose row depends on the class
            X[row, 2 * label + 1] = 1.0
        arrays[f"X_{split}"] = np.clip(X + rng.uniform(0, 0.1, X.shape), 0, 1).astype(
            np.float32)
        arrays[f"y_{split}"] = y
    path.parent.mkdir(parents=True)
    np.savez(path, **arrays)


def test_the_npz_dataset_example_runs_as_a_plugin(tmp_path, site, capsys):
    from processes import install_fake_plugin

    from benchbase.cli import main

    doc = (Path(__file__).resolve().parents[1] / "docs" / "datasets.md").read_text()
    [example] = [block for block in re.findall(r"```python\n(.*?)```", doc, flags=re.S)
                 if block.startswith("# mypkg/shapes.py")]
    npz = tmp_path / "data" / "shapes" / "shapes.npz"
    _shapes_npz(npz)
    digest = sha256(npz)
    source = re.sub(r'SHA256 = "0{64}"', f'SHA256 = "{digest}"', example)
    assert source != example  # the digest a user fills in
    install_fake_plugin(site, "shapes-plugin", "shapes", source)
    data_dir = str(tmp_path / "data")
    assert main(["data", "verify", "shapes", "--data-dir", data_dir]) == 0
    assert main(["run", "--datasets", "shapes", "--algorithms", "KELM", "--seeds", "1",
                 "--data-dir", data_dir, "--offline", "--out", str(tmp_path / "out")]) == 0
    assert "1 trials, 0 failed" in capsys.readouterr().out
    npz.write_bytes(npz.read_bytes()[:-10])  # damaged: refused, not decoded
    assert main(["data", "verify", "shapes", "--data-dir", data_dir]) == 1
    out = capsys.readouterr().out
    assert "shapes.npz" in out and "replace it with a good copy" in out
    assert "benchbase data fetch" not in out  # it has no address to download from
