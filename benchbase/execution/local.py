"""The executors of this machine: ``process`` and ``inline`` (``benchbase.execution``).

* ``process`` (default): each trial in its own child process of this machine
  (``benchbase.execution.isolation``), ``jobs`` at once.
* ``inline``: each trial in this process, one after another, for debugging
  (a debugger or profiler sees the plugin's code). It cannot stop a trial,
  so it refuses a timeout or memory limit; peak memory is the process's.
"""

from __future__ import annotations

import collections
import math
import multiprocessing.connection
import time
from collections.abc import Iterator

from benchbase.execution.executor import Event, Executor, Finished, Started, Workload, local_host
from benchbase.execution.isolation import (
    TrialProcess,
    call,
    error_message,
    memory_limit_supported,
)
from benchbase.execution.limits import ExecutorOptionError, at_least_one
from benchbase.results.record import Outcome, Status
from benchbase.timing import host_memory_mb
from benchbase.trial.task import TrialTask


class ProcessExecutor(Executor):
    """Each trial in its own child process of this machine, ``jobs`` at once."""

    def __init__(self, jobs: int = 1) -> None:
        at_least_one("jobs", jobs, ExecutorOptionError)
        self.jobs = jobs
        self._running: dict[str, TrialProcess] = {}
        self._events: list[Event] = []

    def open(self, workload: Workload) -> None:
        if workload.limits.memory_limit_mb is not None and not memory_limit_supported():
            raise ExecutorOptionError("a memory limit needs Linux (/proc)")
        self.workload = workload
        self.threads = workload.limits.trial_threads(self.jobs)
        self.host = local_host()

    def capacity(self) -> int:
        return self.jobs

    def memory_mb(self) -> float | None:
        return host_memory_mb()

    def submit(self, task: TrialTask) -> None:
        limits = self.workload.limits
        try:
            fn, args = task.call(self.workload.datasets[task.dataset], self.threads)
            child = TrialProcess(fn, args, timeout=limits.timeout_s(),
                                 memory_limit_mb=limits.memory_limit_mb,
                                 preload=self.workload.modules)
            child.start()  # pickles the arguments: a plugin's may refuse
        except Exception as exc:
            self._finish(task.key, Outcome(Status.ERROR, error=error_message(exc)))
            return
        self._running[task.key] = child
        self._events.append(Started(task.key, self.host))

    def _finish(self, key: str, outcome: Outcome) -> None:
        self._events.append(Finished(key, outcome, self.host, self.threads))

    def poll(self, timeout: float) -> list[Event]:
        if not self._events and self._running:
            wakes = [w for w in (c.wake_at() for c in self._running.values()) if w is not None]
            wait = min([timeout, *(w - time.monotonic() for w in wakes)])
            multiprocessing.connection.wait(
                [waitable for c in self._running.values() for waitable in c.waitables()],
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
        limits = workload.limits
        if limits.timeout is not None and not math.isinf(limits.timeout):
            raise ExecutorOptionError("the inline executor cannot stop a running trial; "
                                      "drop the timeout or use the process executor")
        if limits.memory_limit_mb is not None:
            raise ExecutorOptionError("the inline executor cannot enforce a memory limit; "
                                      "use the process executor")
        self.workload = workload
        self.threads = limits.trial_threads(1)
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
                outcome = Outcome(Status.ERROR, error=error_message(exc))
            else:
                outcome = call(fn, args)
            yield Finished(task.key, outcome, self.host, self.threads)

    def close(self) -> None:
        self._queue.clear()
