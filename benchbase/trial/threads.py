"""The threads a trial may use: BLAS/OpenMP, torch and Numba alike."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "NUMBA_NUM_THREADS")


@contextlib.contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """Cap BLAS/OpenMP, torch and Numba threads for the block, then restore them.

    Libraries imported inside the block read the environment variables.
    Numba goes first: starting its thread pool resets OpenMP's thread count
    to Numba's pool size, which torch then reports as its own (this is how
    DDAE used two cores under ``--threads 1``). In a trial's own process
    this is exact; ``inline``, a Numba imported earlier keeps its pool size
    (its threads are still capped).
    """
    from threadpoolctl import threadpool_limits

    saved_env = {var: os.environ.get(var) for var in _THREAD_VARIABLES}
    numba = sys.modules.get("numba")
    saved_numba = numba.get_num_threads() if numba is not None else None
    torch = sys.modules.get("torch")
    saved_torch = torch.get_num_threads() if torch is not None else None
    for var in _THREAD_VARIABLES:
        os.environ[var] = str(threads)  # libraries loaded later read these
    if numba is not None:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        for var, value in saved_env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
        if numba is not None:
            numba.set_num_threads(saved_numba)
        if torch is not None:
            torch.set_num_threads(saved_torch)
