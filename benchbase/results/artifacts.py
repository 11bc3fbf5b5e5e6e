"""Per-trial arrays kept beside the result row: predictions, selection, images.

A finished trial keeps ``artifacts/<trial_key>.npz`` in its results folder:
compressed NumPy arrays only (never pickles), written to a temporary file and
renamed into place before the row that records their sha256 is appended, so
a row never points at a half-written file. Loading checks the digest and
refuses object arrays (``allow_pickle=False``).

What the harness stores for every trial (``CORE_NAMES``):

* ``y_test``, ``y_pred``: the test labels and the final model's predictions
  (a report needs no data files for per-example statistics);
* ``candidates``, ``val_scores``: every grid point tried during selection
  (JSON text, in grid order) and its validation accuracy, like scikit-learn's
  ``cv_results_``; empty when there was nothing to choose; ``val_samples``:
  how many fit-split rows each score's model was fitted on (all of them,
  except under successive halving, where rungs grow); ``val_history``: every
  scoring in order, rung by rung, as rows (candidate index, fit rows,
  validation accuracy), so a halving's earlier rungs stay readable;
* ``image_shape``: the dataset's image shape, for drawing any image array.

An algorithm adds its own through ``AlgorithmSpec.trial_artifacts`` (the
autoencoders: layer-1 filters and reconstructions); their names must not
shadow these.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from benchbase.fsutil import atomic_writer

FOLDER = "artifacts"
CORE_NAMES = frozenset({"y_test", "y_pred", "candidates", "val_scores", "val_samples",
                        "val_history", "image_shape"})
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class ArtifactError(ValueError):
    """A trial's artifact file is missing, damaged or not what its row recorded."""


def path_for(folder: str | os.PathLike[str], trial_key: str) -> Path:
    return Path(folder) / FOLDER / f"{trial_key}.npz"


def check_arrays(arrays: Mapping[str, object], owner: str) -> dict[str, np.ndarray]:
    """The arrays as plain NumPy arrays, or a ValueError naming ``owner`` and the entry."""
    checked = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError(f"{owner}: artifact name {name!r} must be lowercase "
                             "letters, digits and '_'")
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise ValueError(f"{owner}: artifact {name!r} holds Python objects; "
                             "store numbers or text")
        checked[name] = array
    return checked


def write(folder: str | os.PathLike[str], trial_key: str,
          arrays: Mapping[str, np.ndarray]) -> str:
    """Save the arrays atomically as ``artifacts/<trial_key>.npz``; return its sha256."""
    checked = check_arrays(arrays, f"trial {trial_key}")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **checked)
    data = buffer.getvalue()
    with atomic_writer(path_for(folder, trial_key), "wb", durable=True) as out:
        out.write(data)
    return hashlib.sha256(data).hexdigest()


def load(folder: str | os.PathLike[str], trial_key: str, sha256: str
         ) -> dict[str, np.ndarray]:
    """The trial's arrays, checked against the digest its row recorded."""
    path = path_for(folder, trial_key)
    if not sha256:
        raise ArtifactError(f"trial {trial_key} in {folder}: its row records no "
                            "artifacts (written by an older benchbase?)")
    if not path.is_file():
        raise ArtifactError(f"{path}: missing (its row records sha256 {sha256[:12]}…)")
    data = path.read_bytes()  # small; hashed and parsed from the same bytes
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ArtifactError(f"{path}: sha256 {actual[:12]}… differs from the "
                            f"{sha256[:12]}… its row recorded; the file was changed "
                            "or damaged")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:  # zip or .npy damage
        raise ArtifactError(f"{path}: unreadable ({exc})") from None
