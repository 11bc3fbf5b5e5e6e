"""The decoded-array cache: reused when valid, rebuilt when the source changes or
the cache itself is damaged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from data_builders import flip_byte, write

from benchbase import DataContext, data

pytestmark = pytest.mark.usefixtures("isolated")


class Decoder:
    """Decodes a source file's bytes into arrays, counting how often it runs."""

    def __init__(self, source):
        self.source, self.calls = source, 0

    def __call__(self):
        self.calls += 1
        raw = np.frombuffer(self.source.read_bytes(), np.uint8)
        return {"X": raw.astype(np.float32).reshape(-1, 4) / 255,
                "y": np.arange(len(raw) // 4, dtype=np.int64)}


@pytest.fixture
def source(tmp_path):
    return write(tmp_path / "source.bin", bytes(range(64)))


def _load(source, decoder):
    return data.cached_arrays("toy", [source], decoder, DataContext())


def test_second_load_comes_from_the_cache(source):
    decoder = Decoder(source)
    first = _load(source, decoder)
    second = _load(source, decoder)
    assert decoder.calls == 1
    assert isinstance(second["X"], np.memmap) and not second["X"].flags.writeable
    for name in ("X", "y"):
        np.testing.assert_array_equal(first[name], second[name])
        assert first[name].dtype == second[name].dtype


def test_a_changed_source_is_decoded_again(source):
    decoder = Decoder(source)
    _load(source, decoder)
    write(source, bytes(range(100, 164)))
    arrays = _load(source, decoder)
    assert decoder.calls == 2
    assert arrays["X"][0, 0] == np.float32(100 / 255)  # the new bytes, not the old


@pytest.mark.parametrize("damage", ["flip-npy", "truncate-npy", "delete-npy",
                                    "bad-manifest", "wrong-shape-in-manifest"])
def test_a_damaged_cache_is_rebuilt(source, damage, caplog):
    decoder = Decoder(source)
    expected = {k: np.array(v) for k, v in _load(source, decoder).items()}
    entry = data.cache_entry("toy", [source], DataContext())
    npy, manifest = entry / "X.npy", entry / "manifest.json"
    if damage == "flip-npy":
        flip_byte(npy, npy.stat().st_size - 1)  # in the data, not the header
    elif damage == "truncate-npy":
        npy.write_bytes(npy.read_bytes()[:-8])
    elif damage == "delete-npy":
        npy.unlink()
    elif damage == "bad-manifest":
        manifest.write_text("{")
    else:
        meta = json.loads(manifest.read_text())
        meta["arrays"]["X"]["shape"] = [1, 2]
        manifest.write_text(json.dumps(meta))
    arrays = _load(source, decoder)
    assert decoder.calls == 2
    assert "rebuilding the damaged array cache" in caplog.text
    for name, array in expected.items():
        np.testing.assert_array_equal(arrays[name], array)
    # and the rebuilt entry is trusted again
    _load(source, decoder)
    assert decoder.calls == 2


def test_an_unwritable_cache_still_loads(source, tmp_path, monkeypatch, caplog):
    blocker = write(tmp_path / "not-a-folder", b"")
    monkeypatch.setenv(data.ENV_CACHE, str(blocker))  # mkdir inside it fails
    decoder = Decoder(source)
    arrays = _load(source, decoder)
    assert arrays["X"].shape == (16, 4) and not arrays["X"].flags.writeable
    assert "cannot cache decoded arrays" in caplog.text


def test_an_entry_stored_meanwhile_by_another_process_is_kept(source):
    other = Decoder(source)

    def decode_while_another_process_stores():
        _load(source, other)  # stands in for a concurrent process finishing first
        return Decoder(source)()

    entry = data.cache_entry("toy", [source], DataContext())
    arrays = _load(source, decode_while_another_process_stores)
    assert other.calls == 1
    kept = (entry / "X.npy").stat().st_ino
    np.testing.assert_array_equal(arrays["X"], Decoder(source)()["X"])
    assert Path(arrays["X"].filename) == entry / "X.npy"
    assert (entry / "X.npy").stat().st_ino == kept
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]  # no staging left
