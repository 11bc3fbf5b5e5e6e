"""``idx:PATH``: benchmark your own IDX files without writing code.

``PATH`` is a folder holding four IDX files (gzip-compressed or not), found by
the start of their names as in MNIST's release:

* ``train-images*`` and ``train-labels*``: the training part;
* ``t10k-images*`` and ``t10k-labels*`` (or ``test-images*``/``test-labels*``).

Images are ``(N, rows, cols)`` uint8 (0..255) or floating point in [0, 1];
labels are non-negative integers. Files are parsed strictly (see
``benchbase.data.read_idx``), and the decoded arrays are cached like any other
dataset's, keyed by the files' sha256 (so editing a file re-decodes it).
The dataset's name is ``idx-<folder name>-<hash of the folder's path>``, so two
folders with the same name never share results.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import benchbase
from benchbase import data

PREFIX = "idx:"
ROLES = {
    "train images": ("train-images",),
    "train labels": ("train-labels",),
    "test images": ("t10k-images", "test-images"),
    "test labels": ("t10k-labels", "test-labels"),
}


def find_files(folder: Path) -> list[Path]:
    """The four files, in the order of ``ROLES``; a clear error if not exactly one
    file matches a role."""
    names = sorted(p.name for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith("."))
    found = []
    for role, prefixes in ROLES.items():
        matches = [n for n in names if n.startswith(prefixes)]
        if len(matches) != 1:
            wanted = " or ".join(f"{p}*" for p in prefixes)
            problem = "none" if not matches else ", ".join(matches)
            raise data.DataError(
                f"{folder}: need exactly one {role} file named {wanted}; "
                f"found {problem}"
            )
        found.append(folder / matches[0])
    return found


def make_spec(folder: Path) -> benchbase.DatasetSpec:
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise data.DataError(f"{PREFIX}{folder}: no such folder")
    label = re.sub(r"[^A-Za-z0-9_.+-]+", "_", folder.name) or "root"
    tag = hashlib.sha256(str(folder).encode()).hexdigest()[:8]
    return data.idx_dataset_spec(f"idx-{label}-{tag}", lambda: find_files(folder),
                                 description=f"your IDX files in {folder}")


@benchbase.hookimpl
def benchbase_register_dataset_forms():
    return [benchbase.DatasetForm(f"{PREFIX}PATH", "your own four IDX files in the "
                                  "folder PATH (train-images*, train-labels*, "
                                  "t10k-images*, t10k-labels*)")]


@benchbase.hookimpl
def benchbase_resolve_dataset(name: str):
    if not name.startswith(PREFIX):
        return None
    return make_spec(Path(name[len(PREFIX):]))
