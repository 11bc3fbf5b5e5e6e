"""Finding, verifying and downloading files: search order, checksums, the digest
cache, downloads from a local HTTP server (never the real network)."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import pytest
from data_builders import flip_byte, serve_folder, sha256, write

from benchbase import DataContext, data
from benchbase.data import files

pytestmark = pytest.mark.usefixtures("isolated")


def _spec(path: Path, **kwargs) -> data.FileSpec:
    return data.FileSpec(path.name, sha256(path), path.stat().st_size, **kwargs)


# --- where files are looked for -----------------------------------------------------

def test_cache_root_order(tmp_path, monkeypatch):
    assert data.cache_root(DataContext(cache_dir=str(tmp_path / "a"))) == tmp_path / "a"
    monkeypatch.setenv(data.ENV_CACHE, str(tmp_path / "b"))
    assert data.cache_root(DataContext()) == tmp_path / "b"
    monkeypatch.delenv(data.ENV_CACHE)
    monkeypatch.setattr(files.sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.cache_root(DataContext()) == tmp_path / "xdg" / "benchbase"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.cache_root(DataContext()) == tmp_path / "home" / ".cache" / "benchbase"


def test_data_roots_order(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_DATA, os.pathsep.join([str(tmp_path / "e1"),
                                                       str(tmp_path / "e2")]))
    context = DataContext(data_dir=str(tmp_path / "d"))
    assert data.data_roots(context) == [
        ("--data-dir", tmp_path / "d"),
        (data.ENV_DATA, tmp_path / "e1"),
        (data.ENV_DATA, tmp_path / "e2"),
        ("cache", tmp_path / "cache"),
    ]


def _three_copies(tmp_path, monkeypatch):
    """The same good file in --data-dir, BENCHBASE_DATA and the cache."""
    roots = {name: tmp_path / name for name in ("explicit", "env", "cache")}
    for root in roots.values():
        write(root / "toy" / "a.bin", b"payload")
    monkeypatch.setenv(data.ENV_DATA, str(roots["env"]))
    source = data.FileSource("raw", [_spec(roots["cache"] / "toy" / "a.bin")])
    return roots, source


def test_locate_prefers_data_dir_then_env_then_cache(tmp_path, monkeypatch):
    roots, source = _three_copies(tmp_path, monkeypatch)
    explicit = DataContext(data_dir=str(roots["explicit"]), allow_download=False)
    plain = DataContext(allow_download=False)

    def where(context):
        return data.locate("toy", [source], context).paths["a.bin"]

    assert where(explicit) == roots["explicit"] / "toy" / "a.bin"
    assert where(plain) == roots["env"] / "toy" / "a.bin"
    monkeypatch.delenv(data.ENV_DATA)
    assert where(plain) == roots["cache"] / "toy" / "a.bin"


def test_a_corrupt_file_is_refused_not_skipped(tmp_path, monkeypatch):
    roots, source = _three_copies(tmp_path, monkeypatch)
    bad = roots["env"] / "toy" / "a.bin"
    flip_byte(bad, 0)
    with pytest.raises(data.ChecksumError) as info:
        data.locate("toy", [source], DataContext(allow_download=False))
    message = str(info.value)
    assert str(bad) in message
    assert sha256(bad) in message and source.files[0].sha256[0] in message
    assert "replace it with a good copy" in message
    assert bad.exists()  # the user's file is never deleted


@pytest.mark.parametrize("urls", [(), ("http://127.0.0.1:9/a.bin",)])
def test_a_checksum_error_suggests_a_download_only_for_a_file_that_has_one(tmp_path, urls):
    path = write(tmp_path / "a.bin", b"not what was published")
    spec = data.FileSpec("a.bin", "0" * 64, urls=urls)
    with pytest.raises(data.ChecksumError) as info:
        data.verify_file(spec, path, DataContext(cache_dir=str(tmp_path / "cache")))
    assert ("benchbase data fetch" in str(info.value)) == bool(urls)


def test_the_first_complete_source_wins(tmp_path):
    write(tmp_path / "cache" / "toy" / "b.txt", b"second container")
    first = data.FileSource("first", [data.FileSpec("a.bin", "0" * 64)])
    second = data.FileSource("second", [_spec(tmp_path / "cache" / "toy" / "b.txt")])
    located = data.locate("toy", [first, second], DataContext(allow_download=False))
    assert located.source is second


def test_not_found_offline_says_where_and_what_to_do(tmp_path):
    source = data.FileSource("raw", [data.FileSpec("a.bin", "0" * 64,
                                                   urls=("http://x/a.bin",))])
    with pytest.raises(data.DataNotFoundError) as info:
        data.locate("toy", [source], DataContext(allow_download=False))
    message = str(info.value)
    assert "a.bin" in message and str(tmp_path / "cache" / "toy") in message
    assert "benchbase data fetch toy" in message


# --- checksums and the digest cache --------------------------------------------------

def test_digest_is_remembered_while_the_file_is_unchanged(tmp_path, monkeypatch):
    path = write(tmp_path / "a.bin", b"x" * 1000)
    spec = _spec(path)
    calls = []
    real = files._DIGESTS["sha256"]
    monkeypatch.setitem(files._DIGESTS, "sha256",
                        lambda p: calls.append(p) or real(p))
    assert data.verify_file(spec, path) == sha256(path)
    assert data.verify_file(spec, path) == sha256(path)
    assert len(calls) == 1


def test_an_edit_that_restores_size_and_mtime_is_still_caught(tmp_path):
    path = write(tmp_path / "a.bin", b"x" * 1000)
    spec = _spec(path)
    data.verify_file(spec, path)
    st = path.stat()
    flip_byte(path, 10)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(data.ChecksumError):
        data.verify_file(spec, path)


def test_a_damaged_digest_cache_is_ignored(tmp_path, isolated):
    path = write(tmp_path / "a.bin", b"abc")
    spec = _spec(path)
    write(isolated / "digests.json", b"{not json")
    assert data.verify_file(spec, path) == sha256(path)
    write(isolated / "digests.json", b"[1, 2]")
    assert data.verify_file(spec, path) == sha256(path)


def test_content_digest_accepts_a_recompressed_file(tmp_path):
    original = write(tmp_path / "orig" / "f.gz", b"the same bytes " * 100, "gz")
    spec = data.FileSpec("f.gz", sha256(original),
                         content_sha256=hashlib.sha256(b"the same bytes " * 100)
                         .hexdigest())
    recompressed = tmp_path / "f.gz"
    recompressed.write_bytes(gzip.compress(b"the same bytes " * 100, 9, mtime=1))
    assert sha256(recompressed) != sha256(original)
    assert data.verify_file(spec, recompressed) == sha256(recompressed)
    wrong = write(tmp_path / "wrong" / "f.gz", b"other bytes", "gz")
    with pytest.raises(data.ChecksumError, match="uncompressed content sha256"):
        data.verify_file(spec, wrong)


def test_md5_is_accepted_where_no_sha256_is_published(tmp_path):
    path = write(tmp_path / "a.bz2", b"libsvm", "bz2")
    spec = data.FileSpec("a.bz2", md5=hashlib.md5(path.read_bytes()).hexdigest())
    data.verify_file(spec, path)
    flip_byte(path, 5)
    with pytest.raises(data.ChecksumError, match="md5"):
        data.verify_file(spec, path)


@pytest.mark.parametrize("kwargs, message", [
    ({"sha256": "abc"}, "not a sha256"),
    ({"sha256": "A" * 64}, "not a sha256"),
    ({}, "at least one digest"),
    ({"md5": "xyz"}, "not an md5"),
    ({"sha256": "0" * 64, "content_sha256": "1"}, "not a sha256"),
])
def test_file_spec_validates_digests(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.FileSpec("f.gz", **kwargs)


def test_file_spec_wants_a_plain_name():
    with pytest.raises(ValueError, match="plain file name"):
        data.FileSpec("sub/f.gz", "0" * 64)


# --- downloads --------------------------------------------------------------------

@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / "served"``."""
    root = tmp_path / "served"
    root.mkdir()
    with serve_folder(root) as url:
        yield root, url


def test_download_verifies_and_lands_in_the_cache(tmp_path, server, isolated):
    root, url = server
    served = write(root / "a.bin", b"data " * 1000)
    source = data.FileSource("raw", [_spec(served, urls=(url + "missing.bin",
                                                         url + "a.bin"))])
    located = data.locate("toy", [source], DataContext())
    target = isolated / "toy" / "a.bin"
    assert located.paths["a.bin"] == target
    assert target.read_bytes() == served.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.bin"]  # no .part


def test_download_with_a_bad_checksum_is_deleted_and_reported(server, isolated):
    root, url = server
    served = write(root / "a.bin", b"data " * 1000)
    spec = data.FileSpec("a.bin", "0" * 64, size=9000, urls=(url + "a.bin",))
    with pytest.raises(data.DataError) as info:
        data.locate("toy", [data.FileSource("raw", [spec])], DataContext())
    message = str(info.value)
    assert url + "a.bin" in message and sha256(served) in message
    assert "(5,000 bytes, expected 9,000); the download was deleted" in message
    assert list((isolated / "toy").iterdir()) == []


def test_download_that_fails_names_every_url(server):
    _, url = server
    spec = data.FileSpec("a.bin", "0" * 64, urls=(url + "x", url + "y"))
    with pytest.raises(data.DataError) as info:
        data.locate("toy", [data.FileSource("raw", [spec])], DataContext())
    assert "404" in str(info.value)
    assert url + "x" in str(info.value) and url + "y" in str(info.value)


def test_offline_never_downloads(server):
    root, url = server
    served = write(root / "a.bin", b"payload")
    source = data.FileSource("raw", [_spec(served, urls=(url + "a.bin",))])
    with pytest.raises(data.DataNotFoundError, match="downloads are disabled"):
        data.locate("toy", [source], DataContext(allow_download=False))


def test_only_missing_files_are_downloaded(tmp_path, server, monkeypatch):
    root, url = server
    write(root / "b.bin", b"second")
    local = write(tmp_path / "mine" / "toy" / "a.bin", b"first")
    monkeypatch.setenv(data.ENV_DATA, str(tmp_path / "mine"))
    source = data.FileSource("raw", [_spec(local, urls=(url + "a.bin",)),
                                     _spec(root / "b.bin", urls=(url + "b.bin",))])
    located = data.locate("toy", [source], DataContext())
    assert located.paths["a.bin"] == local
    assert located.paths["b.bin"] == tmp_path / "cache" / "toy" / "b.bin"
