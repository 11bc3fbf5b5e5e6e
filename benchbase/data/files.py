"""Finding, downloading and verifying data files.

Files are looked for, in order, in ``<root>/<folder>/<file>`` for each root:

1. the explicit ``DataContext.data_dir`` (``--data-dir``);
2. the folder(s) in ``BENCHBASE_DATA`` (``os.pathsep``-separated);
3. the cache: ``DataContext.cache_dir``, else ``BENCHBASE_CACHE``, else the
   platform's user cache folder (``$XDG_CACHE_HOME/benchbase`` or
   ``~/.cache/benchbase`` on Linux, ``~/Library/Caches/benchbase`` on macOS,
   ``%LOCALAPPDATA%\\benchbase`` on Windows).

A file found anywhere is verified against its sha256 before use, on every
load. Hashing is cheap because digests are remembered in ``digests.json`` in
the cache, keyed by path and the file's size, mtime, ctime and inode: any
write to the file changes the key and forces a fresh hash. Missing files are
downloaded into the cache (when allowed): to a temporary file, verified, then
renamed into place atomically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import http.client
import json
import logging
import os
import shutil
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from benchbase.data.errors import ChecksumError, DataError, DataNotFoundError
from benchbase.data.formats import read_bytes
from benchbase.fsutil import atomic_writer
from benchbase.specs import DataContext, FileSource, FileSpec

ENV_DATA = "BENCHBASE_DATA"
ENV_CACHE = "BENCHBASE_CACHE"
DOWNLOAD_TIMEOUT_S = 60
_CHUNK = 1 << 20

log = logging.getLogger("benchbase.data")


def cache_root(context: DataContext | None = None) -> Path:
    """The cache folder: downloads, the digest cache and decoded arrays."""
    if context is not None and context.cache_dir:
        return Path(context.cache_dir).expanduser()
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        # The XDG spec says to ignore a relative path.
        base = Path(xdg) if os.path.isabs(xdg) else home / ".cache"
    return base / "benchbase"


def data_roots(context: DataContext) -> list[tuple[str, Path]]:
    """``(where it came from, folder)`` for every place searched, in order."""
    roots = []
    if context.data_dir:
        roots.append(("--data-dir", Path(context.data_dir).expanduser()))
    for part in os.environ.get(ENV_DATA, "").split(os.pathsep):
        if part:
            roots.append((ENV_DATA, Path(part).expanduser()))
    roots.append(("cache", cache_root(context)))
    return roots


# --- digests -------------------------------------------------------------------

def _stamp(path: Path) -> list[int]:
    """Changes whenever the file's content may have changed (ctime: even if
    someone restores the mtime after editing)."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of_content(path: Path) -> str:
    return hashlib.sha256(read_bytes(path)).hexdigest()


class DigestCache:
    """Remembers digests in a JSON file, keyed by path and ``_stamp``.

    Only an optimisation: an unreadable or unwritable cache means hashing
    again, never a wrong answer (an entry is used only if the stamp matches).
    """

    def __init__(self, root: Path) -> None:
        self.file = root / "digests.json"

    def _read(self) -> dict:
        try:
            entries = json.loads(self.file.read_text())
        except (OSError, ValueError):
            return {}
        return entries if isinstance(entries, dict) else {}

    def digest(self, path: Path, kind: str, compute: Callable[[Path], str]) -> str:
        key = str(path.resolve())
        stamp = _stamp(path)
        entry = self._read().get(key)
        if isinstance(entry, dict) and entry.get("stamp") == stamp and isinstance(
            entry.get(kind), str
        ):
            return entry[kind]
        value = compute(path)
        if _stamp(path) != stamp:  # changed while we read it: don't remember
            return value
        entries = self._read()  # re-read: another process may have added some
        old = entries.get(key)
        entry = old if isinstance(old, dict) and old.get("stamp") == stamp else {}
        entries[key] = {**entry, "stamp": stamp, kind: value}
        with contextlib.suppress(OSError):  # a read-only cache: hash next time
            with atomic_writer(self.file) as out:
                out.write(json.dumps(entries, indent=0))
        return value


def md5_of_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


_DIGESTS: dict[str, Callable[[Path], str]] = {
    "sha256": sha256_of_file,
    "md5": md5_of_file,
    "content_sha256": sha256_of_content,
}


def file_sha256(path: str | os.PathLike, context: DataContext | None = None) -> str:
    """The sha256 of the file as stored (remembered while it is unchanged)."""
    cache = DigestCache(cache_root(context or DataContext()))
    return cache.digest(Path(path), "sha256", _DIGESTS["sha256"])


def _accepted(spec: FileSpec, digest_of: Callable[[str], str]) -> bool:
    """Whether any digest ``spec`` gives matches; ``digest_of(kind)`` computes."""
    if spec.sha256 and digest_of("sha256") in spec.sha256:
        return True
    if spec.md5 and digest_of("md5") == spec.md5:
        return True
    if spec.content_sha256:
        try:
            return digest_of("content_sha256") == spec.content_sha256
        except DataError:  # not decompressible: certainly not the right content
            return False
    return False


def _checksum_message(spec: FileSpec, what: object, digest: str) -> str:
    expected = " or ".join(
        [f"sha256 {d}" for d in spec.sha256]
        + ([f"md5 {spec.md5}"] if spec.md5 else [])
        + ([f"uncompressed content sha256 {spec.content_sha256}"]
           if spec.content_sha256 else [])
    )
    return (
        f"{what}: checksum mismatch: sha256 is {digest}, expected {expected}. "
        "The file is corrupt, truncated or a different version and was not used"
    )


def verify_file(spec: FileSpec, path: str | os.PathLike,
                context: DataContext | None = None) -> str:
    """Check ``path`` against ``spec``; return its sha256 or raise ChecksumError."""
    path = Path(path)
    cache = DigestCache(cache_root(context or DataContext()))

    def digest_of(kind: str) -> str:
        return cache.digest(path, kind, _DIGESTS[kind])

    try:
        digest = digest_of("sha256")
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if not _accepted(spec, digest_of):
        # Only a file with download addresses can be fetched again.
        fetch = (", or delete it and run `benchbase data fetch` to download it again"
                 if spec.urls else "")
        raise ChecksumError(f"{_checksum_message(spec, path, digest)}; replace it "
                            f"with a good copy{fetch}")
    return digest


# --- locating --------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Located:
    """A dataset's files, found and verified."""

    dataset: str
    source: FileSource
    paths: dict[str, Path]  # file name -> verified path


def _folder(dataset: str, source: FileSource) -> str:
    return source.folder or dataset


def find_file(dataset: str, source: FileSource, spec: FileSpec,
              context: DataContext) -> Path | None:
    """The first existing ``<root>/<folder>/<file>``, unverified, or None."""
    for _, root in data_roots(context):
        candidate = root / _folder(dataset, source) / spec.name
        if candidate.is_file():
            return candidate
    return None


def locate(dataset: str, sources: Sequence[FileSource], context: DataContext,
           download: bool | None = None) -> Located:
    """Find (or download) one complete, verified set of the dataset's files.

    The first source whose files are all present wins; otherwise, if
    ``download`` (default: ``context.allow_download``), the first source with
    URLs is completed by downloading into the cache. A file that is present but
    fails its checksum raises ``ChecksumError``; it is never skipped silently.
    """
    if not sources:
        raise DataError(f"dataset {dataset!r} declares no files")
    download = context.allow_download if download is None else download
    found = {
        source.label: {spec.name: find_file(dataset, source, spec, context)
                       for spec in source.files}
        for source in sources
    }
    for source in sources:
        if all(found[source.label].values()):
            return _verified(dataset, source, found[source.label], context)
    downloadable = [s for s in sources if all(spec.urls for spec in s.files)]
    if download and downloadable:
        source = downloadable[0]
        paths = dict(found[source.label])
        for spec in source.files:
            if paths[spec.name] is None:
                target = cache_root(context) / _folder(dataset, source) / spec.name
                paths[spec.name] = fetch_file(spec, target, context)
        return _verified(dataset, source, paths, context)
    raise DataNotFoundError(_not_found_message(dataset, sources, found, context,
                                               download))


def _verified(dataset: str, source: FileSource, paths: dict[str, Path | None],
              context: DataContext) -> Located:
    for spec in source.files:
        verify_file(spec, paths[spec.name], context)
    return Located(dataset, source, {name: Path(p) for name, p in paths.items()})


def _not_found_message(dataset, sources, found, context, download) -> str:
    missing = "; ".join(
        f"{source.label}: " + ", ".join(n for n, p in found[source.label].items()
                                        if p is None)
        for source in sources
    )
    roots = ", ".join(
        f"{root / _folder(dataset, sources[0])} ({why})"
        for why, root in data_roots(context)
    )
    if download:
        hint = "none of its files can be downloaded; put them in one of those folders"
    else:
        hint = (f"downloads are disabled; run `benchbase data fetch "
                f"{dataset}` where the network is reachable, or set {ENV_DATA} "
                "to a folder holding them")
    return (f"dataset {dataset!r}: files not found (missing {missing}); "
            f"looked in {roots}; {hint}")


# --- downloading -------------------------------------------------------------------

def _urlopen(url: str):
    return urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S)


def fetch_file(spec: FileSpec, target: Path, context: DataContext) -> Path:
    """Download ``spec`` to ``target`` (via a verified temporary file)."""
    if not spec.urls:
        raise DataNotFoundError(f"{target}: missing and {spec.name} has no URL")
    target.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in spec.urls:
        fd, name = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".part",
                                    dir=target.parent)
        tmp = Path(name)
        try:
            log.info("downloading %s from %s", spec.name, url)
            with os.fdopen(fd, "wb") as out, _urlopen(url) as response:
                shutil.copyfileobj(response, out, _CHUNK)
            if _accepted(spec, lambda kind, tmp=tmp: _DIGESTS[kind](tmp)):
                os.replace(tmp, target)
                return target
            size = f"{tmp.stat().st_size:,} bytes"
            if spec.size is not None:
                size += f", expected {spec.size:,}"
            failures.append(
                f"{_checksum_message(spec, url, sha256_of_file(tmp))} ({size}); "
                "the download was deleted"
            )
        except (OSError, http.client.HTTPException, ValueError) as exc:
            failures.append(f"{url}: {exc}")
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    raise DataError(f"could not download {spec.name} to {target}: "
                    + " | ".join(failures))
