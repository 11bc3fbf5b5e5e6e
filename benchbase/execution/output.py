"""A trial's own output (stdout and stderr), kept apart from the terminal and bounded.

A trial's process writes its stdout and stderr (Python's and C libraries'
alike) into a pipe that the process watching it drains as the trial runs, so
a chatty plugin never blocks on a full pipe and never floods the terminal.
``TrialOutput`` keeps the first ``HEAD_BYTES`` and the last ``TAIL_BYTES``
and counts what it left out between them: a plugin that prints 50 MB costs
a few hundred kB. The text travels back with the trial's ``Outcome`` and the
orchestrator writes it to ``logs/<trial_key>.log`` in the results folder; a
failed row's error ends with its last lines (``benchbase.results.record``).
"""

from __future__ import annotations

import contextlib
import os

#: Bytes kept from the start and from the end of a trial's output.
HEAD_BYTES = 64 * 1024
TAIL_BYTES = 192 * 1024


class TrialOutput:
    """Reads a pipe without blocking, keeping its first and last bytes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self.open = True
        self._head = bytearray()
        self._tail = bytearray()
        self.left_out = 0

    def fileno(self) -> int:
        """For ``multiprocessing.connection.wait``: ready when there is output."""
        return self.fd

    def drain(self) -> None:
        """Read whatever the pipe holds now (and notice its end)."""
        while self.open:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.close()
                return
            self._keep(chunk)

    def _keep(self, chunk: bytes) -> None:
        room = HEAD_BYTES - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        self._tail += chunk
        excess = len(self._tail) - TAIL_BYTES
        if excess > 0:
            del self._tail[:excess]
            self.left_out += excess

    def close(self) -> None:
        if self.open:
            self.open = False
            with contextlib.suppress(OSError):
                os.close(self.fd)

    def text(self) -> str:
        """What was kept, with a line saying how much was left out in between."""
        middle = (f"\n[... {self.left_out:,} bytes of output left out ...]\n".encode()
                  if self.left_out else b"")
        return bytes(self._head + middle + self._tail).decode("utf-8", errors="replace")
