"""The parsers: round trips, and a clear DataError naming the file for every
kind of malformed input."""

from __future__ import annotations

import gzip
import struct
import time

import numpy as np
import pytest
from data_builders import esl_text, flip_byte, idx_bytes, libsvm_text, toy_images, write

from benchbase import data
from benchbase_datasets import usps


def _error(call, *args, **kwargs) -> str:
    with pytest.raises(data.DataError) as info:
        call(*args, **kwargs)
    return str(info.value)


# --- IDX ---------------------------------------------------------------------------

@pytest.mark.parametrize("compress", ["", "gz", "bz2"])
def test_idx_round_trip(tmp_path, compress):
    images, _ = toy_images(5)
    path = write(tmp_path / "images", idx_bytes(images), compress)
    out = data.read_idx(path)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize("dtype", [">i2", ">i4", ">f4", ">f8", "i1"])
def test_idx_wider_types_come_back_native(tmp_path, dtype):
    array = np.arange(-6, 6).reshape(3, 4).astype(dtype)
    out = data.read_idx(write(tmp_path / "a.idx", idx_bytes(array)))
    assert out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_idx_bad_magic(tmp_path):
    path = write(tmp_path / "x.idx", b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\0")
    message = _error(data.read_idx, path)
    assert str(path) in message and "not an IDX file" in message


def test_idx_unknown_type_code(tmp_path):
    path = write(tmp_path / "x.idx", b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\0")
    assert "unknown IDX type code 0x07" in _error(data.read_idx, path)


def test_idx_zero_dimensions(tmp_path):
    path = write(tmp_path / "x.idx", b"\x00\x00\x08\x00")
    assert "0 dimensions" in _error(data.read_idx, path)


def test_idx_too_short(tmp_path):
    assert "too short" in _error(data.read_idx, write(tmp_path / "x.idx", b"\0\0"))


def test_idx_truncated_header(tmp_path):
    path = write(tmp_path / "x.idx", b"\x00\x00\x08\x03" + struct.pack(">I", 5))
    assert "truncated IDX header" in _error(data.read_idx, path)


def test_idx_header_claiming_a_trillion_items_fails_fast(tmp_path):
    # 10^12 items as (10^6, 10^6): allocating them would need a terabyte.
    header = b"\x00\x00\x08\x02" + struct.pack(">2I", 10**6, 10**6)
    path = write(tmp_path / "huge.idx", header + b"\0" * 100)
    start = time.perf_counter()
    message = _error(data.read_idx, path)
    assert time.perf_counter() - start < 1.0
    assert str(path) in message and "1,000,000,000,000 bytes" in message


@pytest.mark.parametrize("change", [-1, +1], ids=["truncated", "trailing-bytes"])
def test_idx_length_must_match_header(tmp_path, change):
    content = idx_bytes(toy_images(5)[0])
    content = content[:-1] if change < 0 else content + b"\0"
    message = _error(data.read_idx, write(tmp_path / "x.idx", content))
    assert "declares shape (5, 4, 3)" in message


def test_truncated_gzip(tmp_path):
    path = write(tmp_path / "x.gz", idx_bytes(toy_images(50)[0]), "gz")
    path.write_bytes(path.read_bytes()[:-30])
    message = _error(data.read_idx, path)
    assert str(path) in message and "truncated gzip" in message


def test_gzip_bad_crc(tmp_path):
    path = write(tmp_path / "x.gz", idx_bytes(toy_images(50)[0]), "gz")
    flip_byte(path, len(path.read_bytes()) - 8)  # first byte of the CRC32 trailer
    message = _error(data.read_idx, path)
    assert str(path) in message and "corrupt gzip" in message and "CRC" in message


def test_gzip_corrupt_deflate_stream(tmp_path):
    path = write(tmp_path / "x.gz", idx_bytes(toy_images(50)[0]), "gz")
    flip_byte(path, 12)
    assert "gzip" in _error(data.read_idx, path)


def test_truncated_bzip2(tmp_path):
    path = write(tmp_path / "x.bz2", idx_bytes(toy_images(50)[0]), "bz2")
    path.write_bytes(path.read_bytes()[:-20])
    assert "truncated bzip2" in _error(data.read_idx, path)


def test_missing_file_is_a_data_error(tmp_path):
    assert "cannot read" in _error(data.read_idx, tmp_path / "absent.idx")


def _pair(tmp_path, images, labels):
    return (write(tmp_path / "images.idx", idx_bytes(images)),
            write(tmp_path / "labels.idx", idx_bytes(labels)))


def test_images_labels_round_trip(tmp_path):
    images, labels = toy_images(7)
    X, y = data.read_idx_images_labels(*_pair(tmp_path, images, labels), n_classes=3)
    assert X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, images / np.float32(255))
    np.testing.assert_array_equal(y, labels)


def test_label_out_of_range(tmp_path):
    images, labels = toy_images(7)
    labels[4] = 10
    message = _error(data.read_idx_images_labels, *_pair(tmp_path, images, labels),
                     n_classes=10)
    assert "labels.idx" in message and "label 10 at row 5 is outside 0..9" in message


def test_image_label_count_mismatch(tmp_path):
    images, labels = toy_images(7)
    message = _error(data.read_idx_images_labels,
                     *_pair(tmp_path, images, labels[:6]))
    assert "has 7 images but" in message and "has 6 labels" in message


def test_labels_must_be_one_dimensional(tmp_path):
    images, labels = toy_images(6)
    message = _error(data.read_idx_images_labels,
                     *_pair(tmp_path, images, labels.reshape(3, 2)))
    assert "labels must be 1-D" in message


def test_images_must_have_a_sample_axis(tmp_path):
    _, labels = toy_images(6)
    message = _error(data.read_idx_images_labels, *_pair(tmp_path, labels, labels))
    assert "at least 2 dimensions" in message


def test_float_pixels_outside_unit_interval(tmp_path):
    images = np.full((3, 2, 2), 0.5, dtype=">f4")
    images[1, 0, 0] = 1.5
    message = _error(data.read_idx_images_labels,
                     *_pair(tmp_path, images, np.zeros(3, np.uint8)))
    assert "[0.0, 1.0]" in message and "row 2" in message


def test_float_pixels_nan(tmp_path):
    images = np.full((3, 2, 2), 0.5, dtype=">f4")
    images[2, 1, 1] = np.nan
    message = _error(data.read_idx_images_labels,
                     *_pair(tmp_path, images, np.zeros(3, np.uint8)))
    assert "row 3 contains NaN or infinity" in message


def test_unsupported_pixel_type(tmp_path):
    images = np.zeros((3, 2, 2), dtype=">i2")
    message = _error(data.read_idx_images_labels,
                     *_pair(tmp_path, images, np.zeros(3, np.uint8)))
    assert "not supported" in message


def test_float_labels_are_refused(tmp_path):
    images, _ = toy_images(3)
    message = _error(data.read_idx_images_labels,
                     *_pair(tmp_path, images, np.array([0, 1.5, 2], ">f4")))
    assert "1.5 at row 2 is not an integer" in message


# --- USPS: ESL text -----------------------------------------------------------------

def _esl_pixels(n: int) -> np.ndarray:
    return np.round(np.linspace(-1, 1, n * 256).reshape(n, 256), 4)


def test_esl_round_trip(tmp_path):
    pixels = _esl_pixels(4)
    path = write(tmp_path / "zip.train.gz", esl_text([6, 5, 4, 9], pixels), "gz")
    X, y = usps.read_esl(path)
    assert X.shape == (4, 16, 16) and X.dtype == np.float32
    np.testing.assert_allclose(X.reshape(4, -1), (pixels + 1) / 2, atol=1e-7)
    np.testing.assert_array_equal(y, [6, 5, 4, 9])


def test_esl_integer_labels_like_the_test_file(tmp_path):
    path = write(tmp_path / "zip.test",
                 esl_text([9, 0], _esl_pixels(2), label_format="{:d}"))
    np.testing.assert_array_equal(usps.read_esl(path)[1], [9, 0])


def test_esl_wrong_field_count(tmp_path):
    content = esl_text([1, 2], _esl_pixels(2)).replace(b" \n", b" 0.5 \n", 1)
    message = _error(usps.read_esl, write(tmp_path / "zip.train", content))
    assert "zip.train: row 1 has 258 fields, expected 257" in message


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_esl_nan_or_inf(tmp_path, bad):
    pixels = _esl_pixels(3).astype(object)
    pixels[1, 7] = float(bad)
    content = esl_text([1, 2, 3], np.asarray(pixels, dtype=float))
    message = _error(usps.read_esl, write(tmp_path / "zip.train", content))
    assert "row 2 contains NaN or infinity" in message


def test_esl_not_a_number(tmp_path):
    content = esl_text([1, 2], _esl_pixels(2)).replace(b"-1.0000", b"-1.0x00", 1)
    message = _error(usps.read_esl, write(tmp_path / "zip.train", content))
    assert "row 1: '-1.0x00' is not a number" in message


def test_esl_label_out_of_range(tmp_path):
    path = write(tmp_path / "zip.train", esl_text([3, 10], _esl_pixels(2)))
    assert "label 10.0 at row 2 is outside 0..9" in _error(usps.read_esl, path)


def test_esl_label_not_an_integer(tmp_path):
    path = write(tmp_path / "zip.train", esl_text([3.5, 1], _esl_pixels(2)))
    assert "3.5 at row 1 is not an integer" in _error(usps.read_esl, path)


def test_esl_pixel_out_of_range(tmp_path):
    pixels = _esl_pixels(2)
    pixels[1, 0] = 1.5
    path = write(tmp_path / "zip.train", esl_text([3, 1], pixels))
    assert "must lie in [-1.0, 1.0]; row 2" in _error(usps.read_esl, path)


def test_text_that_is_not_text(tmp_path):
    path = write(tmp_path / "zip.train", b"1 \xff\xfe 2\n")
    assert "not a text file" in _error(usps.read_esl, path)


# --- USPS: LIBSVM -------------------------------------------------------------------

def test_libsvm_round_trip_with_sparse_zeros(tmp_path):
    pixels = _esl_pixels(3)
    pixels[0, :10] = 0.0  # omitted from the file: must come back as 0 -> 0.5
    path = write(tmp_path / "usps.bz2", libsvm_text([1, 10, 5], pixels), "bz2")
    X, y = usps.read_libsvm(path)
    np.testing.assert_array_equal(y, [0, 9, 4])
    np.testing.assert_allclose(X.reshape(3, -1), (pixels + 1) / 2, atol=1e-6)


@pytest.mark.parametrize("label", [0, 11])
def test_libsvm_label_out_of_range(tmp_path, label):
    path = write(tmp_path / "usps", libsvm_text([1, label], _esl_pixels(2)))
    assert f"label {float(label)} at row 2 is outside 1..10" in _error(
        usps.read_libsvm, path)


@pytest.mark.parametrize("line, expected", [
    (b"1 0:0.5\n", "feature index 0 is outside 1..256"),
    (b"1 257:0.5\n", "feature index 257 is outside 1..256"),
    (b"1 3:0.5 7\n", "row 1: field '7' is not 'index:value'"),
    (b"1 3:0.5:2\n", "row 1: field '3:0.5:2' is not 'index:value'"),
    (b"1:2 3:0.5\n", "row 1: field '1:2' is not 'index:value'"),
    (b"1 a:0.5\n", "feature index is not an integer"),
    (b"1 3:nan\n", "row 1 contains NaN or infinity"),
    (b"x 3:0.5\n", "row 1: 'x' is not a number"),
    (b"1 3:0.5 2:0.5\n", "row 1: feature indices must increase (3:0.5 2:0.5)"),
    (b"1 -3:0.5\n", "row 1: feature index is not an integer ('-3')"),
    (b"1 99999999999999999999:0.5\n", "feature index 99999999999999999999 is outside"),
])
def test_libsvm_malformed(tmp_path, line, expected):
    path = write(tmp_path / "usps", b"2 1:0.5\n" + line)
    message = _error(usps.read_libsvm, path)
    assert str(path) in message
    assert expected.replace("row 1", "row 2") in message or expected in message


def test_libsvm_comments_and_blank_lines_are_skipped(tmp_path):
    path = write(tmp_path / "usps", b"# digits\n3 1:0.5 # a comment\n\n4 2:-0.5\n")
    X, y = usps.read_libsvm(path)
    np.testing.assert_array_equal(y, [2, 3])
    assert X.shape == (2, 16, 16) and X[0, 0, 0] == 0.75 and X[1, 0, 1] == 0.25


def test_gzip_helper_is_what_the_readers_decompress(tmp_path):
    # read_bytes picks the codec by magic bytes, not by the file's name.
    path = write(tmp_path / "plain-name", b"hello", "gz")
    assert gzip.decompress(path.read_bytes()) == data.read_bytes(path) == b"hello"
