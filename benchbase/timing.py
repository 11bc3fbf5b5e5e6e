"""Measuring a stage: wall and CPU seconds, what else kept the host busy, peak
memory, thread counts."""

from __future__ import annotations

import dataclasses
import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: Stages shorter than this get no ``other_cpus``: /proc/stat counts in
#: ticks of 10 ms, so a short stage's figure would be mostly rounding.
OTHER_CPUS_MIN_SECONDS = 1.0


@dataclasses.dataclass
class Timing:
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    #: Mean number of the host's CPUs that other processes (this one's children
    #: included) kept busy during the block; None where it cannot be told.
    other_cpus: float | None = None


def host_busy_seconds() -> float | None:
    """CPU seconds the whole host has spent busy since boot, summed over its CPUs.

    Read from Linux's /proc/stat (user, nice, system, irq and softirq time;
    idle, I/O wait and time stolen by a hypervisor are not busy); None on
    other systems.
    """
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
        ticks = [int(value) for value in fields[1:8]]
    except (OSError, ValueError):
        return None
    if len(ticks) < 7 or fields[0] != "cpu":
        return None
    user, nice, system, _idle, _iowait, irq, softirq = ticks
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


@contextmanager
def timed() -> Iterator[Timing]:
    """Measure the block's wall time, this process's CPU time (all threads) and
    how many of the host's CPUs other processes kept busy meanwhile
    (``Timing.other_cpus``: from about 0.5 on, the block shared the machine)."""
    result = Timing()
    busy = host_busy_seconds()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield result
    finally:
        result.wall_seconds = time.perf_counter() - wall
        result.cpu_seconds = time.process_time() - cpu
        busy_after = host_busy_seconds()
        if (busy is not None and busy_after is not None
                and result.wall_seconds >= OTHER_CPUS_MIN_SECONDS):
            others = busy_after - busy - result.cpu_seconds
            result.other_cpus = max(others, 0.0) / result.wall_seconds


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def host_memory_mb() -> float | None:
    """This machine's physical memory in MiB (None where the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1024**2
    except (AttributeError, ValueError, OSError):
        return None


def blas_threads() -> int | None:
    """Threads the loaded BLAS library will use (None if none is loaded)."""
    from threadpoolctl import threadpool_info

    counts = [pool["num_threads"] for pool in threadpool_info()
              if pool.get("user_api") == "blas"]
    return max(counts) if counts else None
