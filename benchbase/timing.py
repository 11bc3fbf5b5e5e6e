"""Measuring a stage: wall and CPU seconds, peak memory, thread counts."""

from __future__ import annotations

import dataclasses
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


@dataclasses.dataclass
class Timing:
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    """Measure the block's wall time and this process's CPU time (all threads)."""
    result = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield result
    finally:
        result.wall_seconds = time.perf_counter() - wall
        result.cpu_seconds = time.process_time() - cpu


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def blas_threads() -> int | None:
    """Threads the loaded BLAS library will use (None if none is loaded)."""
    from threadpoolctl import threadpool_info

    counts = [pool["num_threads"] for pool in threadpool_info()
              if pool.get("user_api") == "blas"]
    return max(counts) if counts else None
