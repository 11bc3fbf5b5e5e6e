"""Trial claims: two runs into one folder share out the work instead of doing it twice.

A run claims a trial (a POSIX record lock on one byte of the folder's
``.claims`` file, at an offset derived from the trial's key) before running it
and releases it when the row is saved. The kernel drops the claims of a
process that dies, so none outlives its run.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
from pathlib import Path
from typing import IO

CLAIMS_NAME = ".claims"


def _offset(trial_key: str) -> int:
    """A byte of the claims file for the trial (60 bits: collisions are harmless,
    they only keep two trials from running at the same time in two runs)."""
    return int(hashlib.sha256(trial_key.encode()).hexdigest()[:15], 16)


class Claims:
    """The claims this process holds in one results folder.

    Claims are POSIX record locks, owned by the process: closing any other
    descriptor of the claims file in this process would drop them all, so
    only this object opens it (one ``Claims`` per folder and process).
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.path = Path(folder) / CLAIMS_NAME
        self._file: IO[bytes] | None = None

    def claim(self, trial_key: str) -> bool:
        """Reserve a trial for this process: False while another process has it."""
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # held until release_all
        try:
            fcntl.lockf(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _offset(trial_key))
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EAGAIN):
                return False
            raise
        return True

    def release(self, trial_key: str) -> None:
        if self._file is not None:
            fcntl.lockf(self._file, fcntl.LOCK_UN, 1, _offset(trial_key))

    def release_all(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
