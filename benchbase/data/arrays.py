"""The decoded-array cache, and assembling a ``Dataset`` from cached arrays.

Decoding MNIST from gzip takes seconds; loading its decoded arrays as
memory-mapped ``.npy`` files takes milliseconds. A cache entry lives in
``<cache>/arrays/<key>-<tag>/``, where the tag hashes the cache format, the key
and the sha256 of every source file: a changed source file gets a new entry
automatically. The entry's ``manifest.json`` records each array's shape, dtype
and sha256; on load every array is checked against it (its digest remembered
by the same stamp-keyed digest cache as the data files), and anything that
does not match, or cannot be read, is rebuilt from the source files.

Loaded arrays are read-only (memory maps of the cache); copy before modifying.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from benchbase.data.errors import DataError
from benchbase.data.files import cache_root, file_sha256, locate, sha256_of_file
from benchbase.data.formats import read_idx_images_labels
from benchbase.specs import DataContext, Dataset, DatasetSpec, FileSource

#: Bump when the decoders change what they produce from the same files.
CACHE_FORMAT = 1
_SPLITS = ("X_train", "y_train", "X_test", "y_test")

log = logging.getLogger("benchbase.data")

Arrays = dict[str, np.ndarray]


def cache_entry(key: str, sources: Sequence[str | os.PathLike],
                context: DataContext) -> Path:
    """The folder caching arrays decoded from ``sources`` under ``key``."""
    digests = [file_sha256(path, context) for path in sources]
    tag = hashlib.sha256(
        json.dumps([CACHE_FORMAT, key, digests]).encode()
    ).hexdigest()[:16]
    safe_key = re.sub(r"[^A-Za-z0-9._-]+", "_", key)
    return cache_root(context) / "arrays" / f"{safe_key}-{tag}"


def cached_arrays(key: str, sources: Sequence[str | os.PathLike],
                  build: Callable[[], Mapping[str, np.ndarray]],
                  context: DataContext) -> Arrays:
    """``build()``'s arrays, from the cache when it holds a verified copy."""
    entry = cache_entry(key, sources, context)
    arrays = _load(entry, context)
    if arrays is not None:
        return arrays
    built = {name: np.ascontiguousarray(a) for name, a in build().items()}
    try:
        _store(entry, built, context)
    except OSError as exc:  # e.g. a read-only or full disk: work uncached
        log.warning("cannot cache decoded arrays in %s: %s", entry, exc)
    else:
        stored = _load(entry, context)
        if stored is not None:
            return stored
    for array in built.values():  # as read-only as the cached ones
        array.flags.writeable = False
    return built


def _load(entry: Path, context: DataContext, quiet: bool = False) -> Arrays | None:
    manifest_file = entry / "manifest.json"
    if not manifest_file.is_file():
        return None
    try:
        manifest = json.loads(manifest_file.read_text())
        arrays = {}
        for name, meta in manifest["arrays"].items():
            path = entry / f"{name}.npy"
            if file_sha256(path, context) != meta["sha256"]:
                raise ValueError(f"{path.name}: sha256 differs from the manifest")
            array = np.load(path, mmap_mode="r", allow_pickle=False)
            if list(array.shape) != meta["shape"] or str(array.dtype) != meta["dtype"]:
                raise ValueError(f"{path.name}: shape or dtype differs")
            arrays[name] = array
        return arrays
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        if not quiet:
            log.warning("rebuilding the damaged array cache %s (%s)", entry, exc)
        return None


def _store(entry: Path, arrays: Mapping[str, np.ndarray], context: DataContext
           ) -> None:
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
    try:
        manifest = {"format": CACHE_FORMAT, "arrays": {}}
        for name, array in arrays.items():
            path = staging / f"{name}.npy"
            np.save(path, array, allow_pickle=False)
            manifest["arrays"][name] = {
                "shape": list(array.shape),
                "dtype": str(array.dtype),
                "sha256": sha256_of_file(path),
            }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1))
        if entry.exists():
            if _load(entry, context, quiet=True) is not None:
                return  # another process stored a good copy while we decoded
            shutil.rmtree(entry)  # damaged (only ever our own cache folder)
        try:
            os.rename(staging, entry)  # atomic: readers see all of it or none
        except OSError:
            if not (entry / "manifest.json").is_file():
                raise
            # Another process stored the same entry first; theirs is as good.
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)


def dataset_from_arrays(name: str, arrays: Mapping[str, np.ndarray]) -> Dataset:
    """A ``Dataset`` from X_train/y_train/X_test/y_test with images (N, ...)."""
    X_train, X_test = arrays["X_train"], arrays["X_test"]
    image_shape = tuple(int(n) for n in X_train.shape[1:])
    return Dataset(
        name,
        X_train.reshape(len(X_train), -1), arrays["y_train"],
        X_test.reshape(len(X_test), -1), arrays["y_test"],
        image_shape,
    )


def load_idx_dataset(name: str, train_images: str | os.PathLike,
                     train_labels: str | os.PathLike,
                     test_images: str | os.PathLike,
                     test_labels: str | os.PathLike,
                     context: DataContext, n_classes: int | None = None
                     ) -> Dataset:
    """A dataset from four IDX files (gz or not), decoded once, then cached."""
    paths = [train_images, train_labels, test_images, test_labels]

    def build() -> Arrays:
        X_train, y_train = read_idx_images_labels(train_images, train_labels,
                                                   n_classes)
        X_test, y_test = read_idx_images_labels(test_images, test_labels,
                                                n_classes)
        if X_train.shape[1:] != X_test.shape[1:]:
            raise DataError(
                f"{train_images} has images of shape {X_train.shape[1:]} but "
                f"{test_images} has {X_test.shape[1:]}"
            )
        return dict(zip(_SPLITS, (X_train, y_train, X_test, y_test), strict=True))

    return dataset_from_arrays(name, cached_arrays(f"idx-{name}", paths, build,
                                                   context))



def idx_dataset_spec(name: str,
                     files: FileSource | Callable[[], Sequence[str | os.PathLike]], *,
                     n_classes: int | None = None, **fields) -> DatasetSpec:
    """The ``DatasetSpec`` of a dataset kept in four IDX files.

    ``files`` is a ``FileSource`` (the files are then found in the data
    folders, downloaded when allowed, and verified) or a function returning
    their paths (files the user points at); either way in the order train
    images, train labels, test images, test labels. Labels must lie in
    ``0..n_classes-1`` when ``n_classes`` is given. ``fields`` are the spec's
    other fields (``description``, ``paper_subset``, ``homepage``).
    """

    def load(context: DataContext) -> Dataset:
        if isinstance(files, FileSource):
            found = locate(name, [files], context).paths
            paths = [found[spec.name] for spec in files.files]
        else:
            paths = files()
        return load_idx_dataset(name, *paths, context=context, n_classes=n_classes)

    sources = [files] if isinstance(files, FileSource) else []
    classes = range(n_classes) if n_classes is not None else None
    return DatasetSpec(name=name, load=load, sources=sources, classes=classes, **fields)
