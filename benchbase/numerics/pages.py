"""NumPy's transparent-huge-page advice, per allocation.

NumPy asks the kernel (``madvise(MADV_HUGEPAGE)``) to back every array of 4 MiB
or more with transparent huge pages. Matrices that are factored or multiplied
in blocks run faster on them (fewer TLB misses). But where the kernel compacts
memory on the first touch of advised memory (THP ``defrag`` set to ``madvise``,
a common default), the first touch of a multi-GB array in a fresh process can
stall for longer than the GEMM that fills it (docs/speed.md, "Huge pages").
Matrices written once and then only streamed, such as the Nyström K_nM, are
therefore allocated without the advice (``without_huge_pages``).

NumPy has one process-wide switch, read from ``NUMPY_MADVISE_HUGEPAGE`` at
import and set by a private function; where a NumPy lacks it, nothing here
changes anything.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator


@functools.cache  # looked up once: K_nM's recomputed row blocks ask at every pass
def _switch():
    """NumPy's (getter, setter) of the advice, or None."""
    try:
        from numpy._core import multiarray
    except ImportError:  # NumPy 1.x
        from numpy.core import multiarray
    getter = getattr(multiarray, "_get_madvise_hugepage", None)
    setter = getattr(multiarray, "_set_madvise_hugepage", None)
    return (getter, setter) if getter and setter else None


def numpy_huge_pages() -> bool | None:
    """Whether NumPy advises huge pages for large arrays allocated now (None:
    this NumPy does not say)."""
    switch = _switch()
    return None if switch is None else bool(switch[0]())


@contextlib.contextmanager
def without_huge_pages() -> Iterator[None]:
    """NumPy arrays allocated in the block get no huge-page advice; the
    previous setting is restored after it (the arrays keep theirs)."""
    switch = _switch()
    if switch is None:
        yield
        return
    previous = switch[1](False)
    try:
        yield
    finally:
        switch[1](previous)
