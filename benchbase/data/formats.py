"""Parsers for the containers image datasets come in: IDX, dense text, LIBSVM.

Every reader validates before it trusts: sizes are checked against the bytes
actually present before anything is allocated from a header, and text values
must parse, be finite and come in the expected number of fields. Each problem
is a ``DataError`` naming the file. Decompression (gzip, bzip2) is chosen by
the file's magic bytes, not its name.
"""

from __future__ import annotations

import bz2
import gzip
import io
import math
import os
import struct
import zlib
from itertools import chain
from pathlib import Path

import numpy as np

from benchbase.data.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"
_BZ2_MAGIC = b"BZh"

#: IDX type codes (third magic byte) -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

PathLike = str | os.PathLike


def read_bytes(path: PathLike) -> bytes:
    """The file's content, decompressed if it is gzip or bzip2."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if raw[:2] == _GZIP_MAGIC:
        kind, decompress = "gzip", gzip.decompress
    elif raw[:3] == _BZ2_MAGIC:
        kind, decompress = "bzip2", _bunzip2
    else:
        return raw
    try:
        return decompress(raw)
    except EOFError as exc:
        raise DataError(
            f"{path}: truncated {kind} data (the file ends early); "
            "download or copy it again"
        ) from exc
    except (OSError, zlib.error, ValueError) as exc:  # bad CRC, corrupt stream
        raise DataError(
            f"{path}: corrupt {kind} data ({exc}); download or copy it again"
        ) from exc


def _bunzip2(raw: bytes) -> bytes:
    # Like bz2.decompress, but a truncated stream raises EOFError (as gzip does)
    # instead of a ValueError that looks like corruption.
    parts = []
    while raw:
        decompressor = bz2.BZ2Decompressor()
        parts.append(decompressor.decompress(raw))
        if not decompressor.eof:
            raise EOFError("compressed data ended before the end-of-stream marker")
        raw = decompressor.unused_data
    return b"".join(parts)


def read_text(path: PathLike) -> str:
    """The file's (decompressed) content as ASCII text."""
    try:
        return read_bytes(path).decode("ascii")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not a text file (byte {exc.object[exc.start]:#04x} at "
            f"offset {exc.start})"
        ) from exc


def read_idx(path: PathLike) -> np.ndarray:
    """An IDX file (optionally compressed) as an array in native byte order.

    The header's dimensions are checked against the data length before any
    array is made, so a damaged header fails with a clear error.
    """
    data = read_bytes(path)
    if len(data) < 4:
        raise DataError(f"{path}: {len(data)} bytes is too short for an IDX file")
    code, ndim = data[2], data[3]
    if data[:2] != b"\0\0":
        raise DataError(
            f"{path}: not an IDX file (magic 0x{data[:4].hex()} must start with "
            "0x0000)"
        )
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(f"{path}: unknown IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(
            f"{path}: truncated IDX header ({len(data)} bytes, {ndim} dimensions "
            f"need {header})"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: no overflow
    actual = len(data) - header
    if expected != actual:
        raise DataError(
            f"{path}: IDX header declares shape {dims} ({expected:,} bytes of "
            f"data) but the file holds {actual:,}; it is truncated or damaged"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_dense_text(path: PathLike, n_fields: int) -> np.ndarray:
    """Whitespace-separated numbers, ``n_fields`` per non-blank line, as float64."""
    rows = [line.split() for line in read_text(path).splitlines()]
    rows = [row for row in rows if row]
    for number, row in enumerate(rows, 1):
        if len(row) != n_fields:
            raise DataError(
                f"{path}: row {number} has {len(row)} fields, expected {n_fields}"
            )
    values = _floats(path, rows)
    return _check_finite(path, values.reshape(len(rows), n_fields))


def read_libsvm(path: PathLike, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """A LIBSVM/SVMlight file: ``label index:value ...`` per line, 1-based indices.

    Parsed by scikit-learn's ``load_svmlight_file``. Returns ``(X, labels)``:
    dense float64 ``X`` (absent features are 0) and the labels as float64, both
    checked to be finite, every index in 1..``n_features``. A malformed file is
    a ``DataError`` naming the row (the n-th line holding data) and the field.
    """
    from sklearn.datasets import load_svmlight_file

    raw = read_bytes(path)
    try:
        X, y = load_svmlight_file(io.BytesIO(raw), zero_based=False, dtype=np.float64)
    except (ValueError, OverflowError) as exc:  # scikit-learn names no line: find it
        problem = _libsvm_problem(raw, n_features) or f"not a LIBSVM file ({exc})"
        raise DataError(f"{path}: {problem}") from exc
    beyond = np.flatnonzero(X.indices >= n_features)
    if beyond.size:
        row = np.searchsorted(X.indptr, beyond[0], side="right")
        raise DataError(f"{path}: row {row}: feature index {X.indices[beyond[0]] + 1} "
                        f"is outside 1..{n_features}")
    X.resize((X.shape[0], n_features))
    return _check_finite(path, X.toarray()), _check_finite(path, y)


def _libsvm_problem(raw: bytes, n_features: int) -> str | None:
    """The first malformed row of a LIBSVM file, described; None if none is found."""
    rows = (line.split(b"#", 1)[0].split() for line in raw.splitlines())
    for number, (label, *pairs) in enumerate(filter(None, rows), 1):
        label, pairs = label.decode("latin-1"), [p.decode("latin-1") for p in pairs]
        bad = label if ":" in label else next((p for p in pairs if p.count(":") != 1), None)
        if bad is not None:
            return (f"row {number}: field {bad!r} is not 'index:value' "
                    "(each line is a label, then index:value pairs)")
        split = [pair.partition(":") for pair in pairs]
        for field in (label, *(value for _, _, value in split)):
            if not _is_float(field):
                return f"row {number}: {field!r} is not a number"
        indices = []
        for index, _, _ in split:
            if not index.isdecimal():
                return f"row {number}: feature index is not an integer ({index!r})"
            if not 1 <= int(index) <= n_features:
                return f"row {number}: feature index {int(index)} is outside 1..{n_features}"
            indices.append(int(index))
        if indices != sorted(set(indices)):
            return f"row {number}: feature indices must increase ({' '.join(pairs)})"
    return None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_labels(path: PathLike, values: np.ndarray, low: int, high: int) -> np.ndarray:
    """Labels as int64 ``values - low``; each must be an integer in low..high."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
        if bad.size:
            raise DataError(
                f"{path}: label {values[bad[0]]} at row {bad[0] + 1} is not an "
                "integer"
            )
    elif values.dtype.kind not in "iu":
        raise DataError(f"{path}: labels have type {values.dtype}, not integers")
    bad = np.flatnonzero((values < low) | (values > high))
    if bad.size:
        raise DataError(
            f"{path}: label {values[bad[0]]} at row {bad[0] + 1} is outside "
            f"{low}..{high} ({bad.size} such labels)"
        )
    return values.astype(np.int64) - low


def to_unit(path: PathLike, values: np.ndarray, low: float, high: float
            ) -> np.ndarray:
    """Pixels in [low, high] mapped linearly to float32 in [0, 1]."""
    values = np.asarray(values)
    if values.dtype == np.uint8 and (low, high) == (0, 255):  # cannot be out of range
        return np.divide(values, np.float32(255), dtype=np.float32)
    values = _check_finite(path, values)
    bad = np.flatnonzero(((values < low) | (values > high)).reshape(len(values), -1)
                         .any(axis=1))
    if bad.size:
        row = values[bad[0]]
        raise DataError(
            f"{path}: pixel values must lie in [{low}, {high}]; row {bad[0] + 1} "
            f"has min {row.min()} and max {row.max()}"
        )
    unit = (values.astype(np.float64) - low) / (high - low)
    return unit.astype(np.float32)


def read_idx_images_labels(images_path: PathLike, labels_path: PathLike,
                           n_classes: int | None = None
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, rows, cols) as float32 in [0, 1] and labels as int64.

    Images must be uint8 (0..255) or floating point in [0, 1]; labels integers in
    ``0..n_classes-1`` (any non-negative integer when ``n_classes`` is None).
    """
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim < 2:
        raise DataError(
            f"{images_path}: images need at least 2 dimensions (N, ...), "
            f"got shape {images.shape}"
        )
    if labels.ndim != 1:
        raise DataError(f"{labels_path}: labels must be 1-D, got shape {labels.shape}")
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} has {len(images):,} images but {labels_path} has "
            f"{len(labels):,} labels"
        )
    if images.dtype == np.uint8:
        X = to_unit(images_path, images, 0, 255)
    elif images.dtype.kind == "f":
        X = to_unit(images_path, images, 0.0, 1.0)
    else:
        raise DataError(
            f"{images_path}: pixels of type {images.dtype} are not supported; "
            "store uint8 (0..255) or floating point in [0, 1]"
        )
    high = np.iinfo(np.int64).max if n_classes is None else n_classes - 1
    return X, to_labels(labels_path, labels, 0, high)


def _floats(path: PathLike, rows: list[list[str]]) -> np.ndarray:
    count = sum(len(row) for row in rows)
    try:
        return np.fromiter(map(float, chain.from_iterable(rows)), np.float64, count)
    except ValueError:
        for number, row in enumerate(rows, 1):
            for field in row:
                try:
                    float(field)
                except ValueError:
                    raise DataError(
                        f"{path}: row {number}: {field!r} is not a number"
                    ) from None
        raise


def _check_finite(path: PathLike, values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        flat = np.flatnonzero(~np.isfinite(values.reshape(len(values), -1)).all(axis=1))
        raise DataError(
            f"{path}: row {flat[0] + 1} contains NaN or infinity "
            f"({len(flat)} such rows)"
        )
    return values
