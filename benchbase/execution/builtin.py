"""The built-in executors, registered like any plugin's (``benchbase.execution``)."""

from __future__ import annotations

from collections.abc import Iterable

import benchbase
from benchbase.execution.executor import Executor
from benchbase.execution.local import InlineExecutor, ProcessExecutor
from benchbase.specs import ExecutorSpec

DASK_HINT = "pip install 'benchbase-suite[dask]'"


def dask_executor(scheduler: str | None = None, workers: int | None = None,
                  connect_timeout: float = 30.0) -> Executor:
    """A ``DaskExecutor`` (imported only when asked for: dask is an extra)."""
    from benchbase.execution.dask_cluster import DaskExecutor

    return DaskExecutor(scheduler=scheduler, workers=workers,
                        connect_timeout=connect_timeout)


@benchbase.hookimpl
def benchbase_register_executors() -> Iterable[ExecutorSpec]:
    return [
        ExecutorSpec(
            name="process", factory=ProcessExecutor,
            description="each trial in its own process on this machine, --jobs at once "
            "(default)"),
        ExecutorSpec(
            name="inline", factory=InlineExecutor,
            description="each trial in this process, one at a time, no timeout: for "
            "debugging"),
        ExecutorSpec(
            name="dask", factory=dask_executor,
            description="trials on a Dask cluster (--scheduler ADDRESS) or a local one "
            "(--dask-workers N), each in its own process on its worker",
            requires=("distributed",), install_hint=DASK_HINT),
    ]
