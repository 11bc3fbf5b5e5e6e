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

from benchbase.execution.executor import Event, Executor, Finished, Started, Workload, local_host
from benchbase.execution.isolation import error_message, run_isolated
from benchbase.execution.limits import DEFAULT_TIMEOUT_S, ExecutorOptionError, Limits, OptionError
from benchbase.results.record import Outcome, Status
from benchbase.trial.task import TrialTask

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Event",
    "Executor",
    "ExecutorOptionError",
    "Finished",
    "Limits",
    "OptionError",
    "Outcome",
    "Started",
    "Status",
    "TrialTask",
    "Workload",
    "error_message",
    "local_host",
    "run_isolated",
]
