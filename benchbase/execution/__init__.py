"""How trials get run: the orchestrator, the executor seam, and each trial's own process.

* ``orchestrator``: runs a plan: skips finished trials, claims, submits,
  saves each result (the only writer of the store);
* ``executor``: the seam every executor implements (``Executor``, ``Workload``,
  ``Started``, ``Finished``);
* ``limits``: threads, timeout and memory per trial (``Limits``), checked once;
* ``local``: the ``process`` and ``inline`` executors; ``dask_cluster``: the
  ``dask`` executor; ``builtin``: their registration as plugins;
* ``isolation``: one trial in its own process (hard timeout, memory limit,
  crash detection, no orphans), used by ``process`` and on Dask workers.

A third-party executor needs only the names exported here.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Where each exported name lives. Imported on first use, so that reading a
#: constant (``benchbase run --help`` shows DEFAULT_TIMEOUT_S) does not load the
#: trial machinery (scikit-learn, pandas).
_EXPORTS = {
    "Event": "benchbase.execution.executor",
    "Executor": "benchbase.execution.executor",
    "Finished": "benchbase.execution.executor",
    "Started": "benchbase.execution.executor",
    "Workload": "benchbase.execution.executor",
    "local_host": "benchbase.execution.executor",
    "error_message": "benchbase.execution.isolation",
    "run_isolated": "benchbase.execution.isolation",
    "DEFAULT_TIMEOUT_S": "benchbase.execution.limits",
    "ExecutorOptionError": "benchbase.execution.limits",
    "Limits": "benchbase.execution.limits",
    "OptionError": "benchbase.execution.limits",
    "Outcome": "benchbase.results.record",
    "Status": "benchbase.results.record",
    "TrialTask": "benchbase.trial.task",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


__all__ = sorted(_EXPORTS)
