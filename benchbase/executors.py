"""The built-in executors, registered like any plugin's (``benchbase.execution``).

* ``process`` (default): each trial in its own child process of this machine
  (``benchbase.isolation``), ``jobs`` at once.
* ``inline``: each trial in this process, one after another, for debugging
  (a debugger or profiler sees the plugin's code). It cannot stop a trial,
  so it refuses a timeout or memory limit; peak memory is the process's.
* ``dask``: trials on a Dask cluster, each in its own child process of its
  worker (``benchbase.dask_executor``; needs the ``dask`` extra).
"""

from __future__ import annotations

import collections
import math
import multiprocessing.connection
import time
from collections.abc import Iterable, Iterator

import benchbase
from benchbase.execution import (
    Event,
    Executor,
    ExecutorOptionError,
    Finished,
    Started,
    TrialTask,
    Workload,
    local_host,
    trial_threads,
)
from benchbase.isolation import Outcome, TrialProcess, call, error_message, memory_limit_supported
from benchbase.specs import ExecutorSpec

DASK_HINT = "pip install 'benchbase-suite[dask]'"


def _positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise ExecutorOptionError(f"{name} must be >= 1, got {value}")


class ProcessExecutor(Executor):
    """Each trial in its own child process of this machine, ``jobs`` at once."""

    def __init__(self, jobs: int = 1) -> None:
        _positive("jobs", jobs)
        self.jobs = jobs
        self._running: dict[str, TrialProcess] = {}
        self._events: list[Event] = []

    def open(self, workload: Workload) -> None:
        if workload.memory_limit_mb is not None and not memory_limit_supported():
            raise ExecutorOptionError("a memory limit needs Linux (/proc)")
        self.workload = workload
        self.threads = trial_threads(self.jobs, workload.threads, workload.oversubscribe)
        self.host = local_host()

    def capacity(self) -> int:
        return self.jobs

    def submit(self, task: TrialTask) -> None:
        try:
            fn, args = task.call(self.workload.datasets[task.dataset], self.threads)
            child = TrialProcess(fn, args, timeout=self.workload.timeout_s(),
                                 memory_limit_mb=self.workload.memory_limit_mb,
                                 preload=self.workload.modules)
            child.start()  # pickles the arguments: a plugin's may refuse
        except Exception as exc:
            self._finish(task.key, Outcome("error", error=error_message(exc)))
            return
        self._running[task.key] = child
        self._events.append(Started(task.key, self.host))

    def _finish(self, key: str, outcome: Outcome) -> None:
        self._events.append(Finished.from_outcome(key, outcome, self.host, self.threads))

    def poll(self, timeout: float) -> list[Event]:
        if not self._events and self._running:
            wakes = [w for w in (c.wake_at() for c in self._running.values()) if w is not None]
            wait = min([timeout, *(w - time.monotonic() for w in wakes)])
            multiprocessing.connection.wait([c.connection for c in self._running.values()],
                                            max(0.0, wait))
        elif not self._events:
            time.sleep(timeout)
        for key, child in list(self._running.items()):
            outcome = child.check()
            if outcome is not None:
                del self._running[key]
                self._finish(key, outcome)
        events, self._events = self._events, []
        return events

    def close(self) -> None:
        for child in self._running.values():
            child.kill()
        self._running.clear()


class InlineExecutor(Executor):
    """Each trial in this process, one after another: for debugging."""

    def __init__(self) -> None:
        self._queue: collections.deque[TrialTask] = collections.deque()

    def open(self, workload: Workload) -> None:
        if workload.timeout is not None and not math.isinf(workload.timeout):
            raise ExecutorOptionError("the inline executor cannot stop a running trial; "
                                      "drop the timeout or use the process executor")
        if workload.memory_limit_mb is not None:
            raise ExecutorOptionError("the inline executor cannot enforce a memory limit; "
                                      "use the process executor")
        self.workload = workload
        self.threads = trial_threads(1, workload.threads, workload.oversubscribe)
        self.host = local_host()

    def capacity(self) -> int:
        return 1

    def submit(self, task: TrialTask) -> None:
        self._queue.append(task)

    def poll(self, timeout: float) -> Iterator[Event]:
        if not self._queue:
            time.sleep(timeout)
        while self._queue:
            task = self._queue.popleft()
            yield Started(task.key, self.host)  # the orchestrator shows it before it runs
            try:
                fn, args = task.call(self.workload.datasets[task.dataset], self.threads)
            except Exception as exc:
                outcome = Outcome("error", error=error_message(exc))
            else:
                outcome = call(fn, args)
            yield Finished.from_outcome(task.key, outcome, self.host, self.threads)

    def close(self) -> None:
        self._queue.clear()


def dask_executor(scheduler: str | None = None, workers: int | None = None,
                  connect_timeout: float = 30.0) -> Executor:
    """A ``DaskExecutor`` (imported only when asked for: dask is an extra)."""
    from benchbase.dask_executor import DaskExecutor

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
