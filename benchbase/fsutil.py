"""Writing files so that readers see the old content or the new, never a mix."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it is to set it
    os.umask(mask)
    return mask


def user_mode(fd: int) -> None:
    """Give a mkstemp file the mode a plain ``open`` would (0666 less the umask):
    mkstemp makes it 0600, unreadable by the user's group."""
    os.fchmod(fd, 0o666 & ~_umask())


@contextlib.contextmanager
def atomic_writer(target: str | os.PathLike[str], mode: str = "w", *,
                  durable: bool = False, **open_kwargs) -> Iterator[IO]:
    """A file object whose content replaces ``target`` when the block succeeds.

    It writes a temporary file beside ``target`` and renames it into place
    (atomic on POSIX); on an exception the temporary file is removed and
    ``target`` is untouched. ``durable`` also fsyncs the data before the rename.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        user_mode(fd)
        with os.fdopen(fd, mode, **open_kwargs) as out:
            yield out
            out.flush()
            if durable:
                os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
