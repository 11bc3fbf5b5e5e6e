"""Shell completion of the registered names (algorithms, datasets, suites).

Loading every plugin takes seconds (they import scikit-learn and torch), too
long for a TAB. The names are cached in the cache folder beside the datasets,
keyed by the installed plugins (each entry point's name, target, distribution
and version), so a new, removed or upgraded plugin refreshes them: the first
TAB after such a change loads the plugins, unless a command that loads them
(``list``, ``run``, ``report``, ``site``) ran since. (A plugin edited in place without a
new version keeps its cached names until the cache file is deleted.)
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchbase.plugins import Catalog

#: The cache file, in benchbase's cache folder.
CACHE_NAME = "completion-names.json"


def _fingerprint() -> str:
    from benchbase.plugins import plugin_entry_points

    parts = []
    for ep in plugin_entry_points():
        dist = ep.dist
        parts.append(f"{ep.name}={ep.value}@{dist.name if dist else ''}"
                     f"=={dist.version if dist else ''}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def _cache_path() -> Path:
    from benchbase.data.files import cache_root

    return cache_root() / CACHE_NAME


def remember_names(catalog: Catalog) -> dict[str, list[str]]:
    """Cache ``catalog``'s names for the next TAB (commands that load every
    plugin anyway call this, so a TAB after any command needs no plugin load)."""
    names = {"algorithms": list(catalog.algorithms), "datasets": list(catalog.datasets),
             "suites": list(catalog.suites)}
    path = _cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"fingerprint": _fingerprint(), "names": names}))
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only cache folder: complete anyway, uncached
    return names


def registered_names(kind: str) -> list[str]:
    """The registered names of ``kind`` (algorithms, datasets or suites)."""
    try:
        cached = json.loads(_cache_path().read_text())
        if cached.get("fingerprint") == _fingerprint():
            return cached["names"][kind]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no cache yet, or an unreadable one: rebuild it
    from benchbase.plugins import load_catalog

    return remember_names(load_catalog())[kind]


def completer(kind: str, comma_separated: bool = False) -> Callable[..., list[str]]:
    """An argcomplete completer of ``kind``; ``comma_separated`` completes the
    last name of ``A,B,…`` (``--algorithms KELM,D`` offers ``KELM,DAE`` …)."""

    def complete(prefix: str, **_) -> list[str]:
        done, _, last = prefix.rpartition(",") if comma_separated else ("", "", prefix)
        head = f"{done}," if done else ""
        return [head + name for name in registered_names(kind)
                if name.lower().startswith(last.lower())]

    return complete
