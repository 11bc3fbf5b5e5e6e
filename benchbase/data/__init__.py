"""Data files and formats: finding, downloading, verifying, parsing, caching.

The core names no dataset: dataset plugins describe their files with
``FileSpec``/``FileSource`` and call ``locate`` and a loader from here.
"""

from __future__ import annotations

from benchbase.data.arrays import (
    cache_entry,
    cached_arrays,
    dataset_from_arrays,
    idx_dataset_spec,
    load_idx_dataset,
)
from benchbase.data.errors import ChecksumError, DataError, DataNotFoundError
from benchbase.data.files import (
    ENV_CACHE,
    ENV_DATA,
    Located,
    cache_root,
    data_roots,
    fetch_file,
    file_sha256,
    find_file,
    locate,
    verify_file,
)
from benchbase.data.formats import (
    read_bytes,
    read_dense_text,
    read_idx,
    read_idx_images_labels,
    read_libsvm,
    read_text,
    to_labels,
    to_unit,
)
from benchbase.specs import FileSource, FileSpec

__all__ = [
    "ENV_CACHE",
    "ENV_DATA",
    "ChecksumError",
    "DataError",
    "DataNotFoundError",
    "FileSource",
    "FileSpec",
    "Located",
    "cache_entry",
    "cache_root",
    "cached_arrays",
    "data_roots",
    "dataset_from_arrays",
    "fetch_file",
    "file_sha256",
    "find_file",
    "idx_dataset_spec",
    "load_idx_dataset",
    "locate",
    "read_bytes",
    "read_dense_text",
    "read_idx",
    "read_idx_images_labels",
    "read_libsvm",
    "read_text",
    "to_labels",
    "to_unit",
    "verify_file",
]
