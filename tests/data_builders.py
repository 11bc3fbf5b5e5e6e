"""Small synthetic data files for the data tests (imported by tests/test_data_*.py)."""

from __future__ import annotations

import bz2
import contextlib
import functools
import gzip
import hashlib
import http.server
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

_IDX_CODES = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype(">i2"): 0x0B,
              np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` in IDX format (big-endian)."""
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    header = bytes([0, 0, _IDX_CODES[dtype], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(dtype).tobytes()


def write(path: Path, content: bytes, compress: str = "") -> Path:
    """Write ``content`` to ``path``, gzip- or bzip2-compressed if asked."""
    if compress == "gz":
        content = gzip.compress(content, mtime=0)
    elif compress == "bz2":
        content = bz2.compress(content)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flip_byte(path: Path, offset: int) -> None:
    """Corrupt one byte of ``path`` in place."""
    content = bytearray(path.read_bytes())
    content[offset] ^= 0xFF
    path.write_bytes(bytes(content))


def toy_images(n: int, seed: int = 0, shape=(4, 3)) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (n, *shape) and labels 0..2."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    return images, (np.arange(n) % 3).astype(np.uint8)


def idx_folder(folder: Path, compress: str = "gz", n_train: int = 12,
               n_test: int = 6) -> Path:
    """A folder with MNIST-style train/t10k IDX files."""
    suffix = ".gz" if compress == "gz" else ""
    for part, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        images, labels = toy_images(n, seed)
        write(folder / f"{part}-images-idx3-ubyte{suffix}", idx_bytes(images), compress)
        write(folder / f"{part}-labels-idx1-ubyte{suffix}", idx_bytes(labels), compress)
    return folder


def esl_text(labels, pixels, label_format="{:.4f}") -> bytes:
    """ESL zip.train-style lines: a label, then the pixel values."""
    lines = [" ".join([label_format.format(label)] + [f"{v:.4f}" for v in row]) + " "
             for label, row in zip(labels, pixels, strict=True)]
    return ("\n".join(lines) + "\n").encode()


def libsvm_text(labels, pixels) -> bytes:
    """LIBSVM lines, omitting zero features as the format allows."""
    lines = []
    for label, row in zip(labels, pixels, strict=True):
        pairs = [f"{i}:{v:g}" for i, v in enumerate(row, 1) if v != 0]
        lines.append(" ".join([str(label), *pairs]))
    return ("\n".join(lines) + "\n").encode()


@contextlib.contextmanager
def serve_folder(root: Path) -> Iterator[str]:
    """Serve ``root`` over HTTP on 127.0.0.1; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
