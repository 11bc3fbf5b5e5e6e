"""A trial's arrays as plugins see them: read-only, and checked after every call.

Every array the harness hands a plugin (``fit``'s X and y, ``predict``'s X, a
grid scorer's four arrays, ``trial_artifacts``' test data) is a read-only view
whose base is read-only too, so the plugin cannot make it writable again; the
other candidates of a grid share these arrays. A write NumPy refuses fails the
call at once; a write NumPy cannot see (through torch, ctypes or a buffer) is
found by a checksum taken before the call and compared after it. Either way
the trial fails with an error naming the array, instead of an ``ok`` row with
wrong numbers. Accuracies are computed from the harness's own copies of the
labels, which no plugin sees.
"""

from __future__ import annotations

import ast
import contextlib
import linecache
import zlib
from collections.abc import Iterator, Mapping

import numpy as np

#: NumPy's messages for a write into a read-only array (item assignment, ufunc ``out``).
_READ_ONLY_MESSAGES = ("assignment destination is read-only", "output array is read-only")


class InputWriteError(RuntimeError):
    """A plugin wrote into an array the harness gave it."""


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array`` that cannot be made writable again.

    An array that owns its memory is frozen in place (the harness's splits
    are fresh copies already: no second copy of a large dataset); anything
    else is copied first, so no writable base is left behind the view.
    """
    if not (isinstance(array, np.ndarray) and array.flags.owndata):
        array = np.array(array, copy=True)
    array.flags.writeable = False
    return array.view()


def _checksum(array: np.ndarray) -> int:
    return zlib.crc32(memoryview(np.ascontiguousarray(array)).cast("B"))


class Inputs:
    """Named arrays for one plugin's calls: read-only, checksummed.

    ``inputs["X_fit"]`` is what the plugin gets; ``with inputs.call("fit()",
    "X_fit", "y_fit"):`` around a call turns a write into any of the named
    arrays into an ``InputWriteError`` naming it.
    """

    def __init__(self, owner: str, **arrays: np.ndarray) -> None:
        self.owner = owner
        self._arrays = {name: read_only(array) for name, array in arrays.items()}
        self._checksums = {name: _checksum(array) for name, array in self._arrays.items()}

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[name]

    @contextlib.contextmanager
    def call(self, method: str, *names: str) -> Iterator[None]:
        """Run the block (one call of the plugin) and check it left ``names`` alone."""
        given = {name: self._arrays[name] for name in names}
        try:
            yield
        except ValueError as exc:
            if not str(exc).startswith(_READ_ONLY_MESSAGES):
                raise
            raise InputWriteError(self._message(method, _written(exc, given) or names,
                                                "wrote into")) from exc
        changed = [name for name in names if _checksum(given[name]) != self._checksums[name]]
        if changed:
            raise InputWriteError(self._message(method, changed, "changed"))

    def _message(self, method: str, names, verb: str) -> str:
        arrays = " or ".join(names)
        return (f"{self.owner}: {method} {verb} its input {arrays}; the harness's arrays "
                "are read-only and shared between candidates: copy what you change "
                "(docs/plugins.md, 'What a plugin may rely on')")


def _written(exc: BaseException, given: Mapping[str, np.ndarray]) -> list[str]:
    """Which of the ``given`` arrays the failed write was aimed at: in the
    innermost frame of the traceback whose variables hold one of them (a view
    counts), those the failing line writes to (``X[:] = 0``, ``X += 1``,
    ``out=X``), else every one it holds."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    for frame, lineno in reversed(frames):
        held = {local: name for local, value in list(frame.f_locals.items())
                for name, array in given.items()
                if isinstance(value, np.ndarray) and value.size
                and np.may_share_memory(value, array)}
        if held:
            line = linecache.getline(frame.f_code.co_filename, lineno)
            targets = _write_targets(line) & set(held)
            return sorted({held[local] for local in (targets or held)})
    return []


def _write_targets(line: str) -> set[str]:
    """Names a line of code writes into: assignment targets (``X[:] = 0``,
    ``X += 1``, ``X.flat = 0``) and ``out=`` arguments."""
    try:
        tree = ast.parse(line.strip())
    except SyntaxError:  # a statement spread over lines
        return set()
    targets = set()
    for node in ast.walk(tree):
        written = []
        if isinstance(node, ast.Assign):
            written = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            written = [node.target]
        elif isinstance(node, ast.keyword) and node.arg == "out":
            written = [node.value]
        for target in written:
            targets.update(name.id for name in ast.walk(target)
                           if isinstance(name, ast.Name))
    return targets
