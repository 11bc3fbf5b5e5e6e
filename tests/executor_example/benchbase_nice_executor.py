"""A complete third-party executor: one trial at a time, each in its own process
at a lower CPU priority (``benchbase run --executor nice --executor-option nice=15``)."""

import os

import benchbase
from benchbase.execution import (
    Executor,
    Finished,
    Outcome,
    Started,
    Status,
    error_message,
    local_host,
    run_isolated,
)


def _niced(increment, fn, *args):
    os.nice(increment)
    return fn(*args)


class NiceExecutor(Executor):
    def __init__(self, nice=10):
        self.nice = int(nice)
        self.queue = []

    def open(self, workload):
        self.workload = workload
        self.threads = workload.limits.trial_threads(1)

    def capacity(self):
        return 1

    def submit(self, task):
        self.queue.append(task)

    def poll(self, timeout):
        while self.queue:
            task = self.queue.pop(0)
            yield Started(task.key, local_host())
            try:
                fn, args = task.call(self.workload.datasets[task.dataset], self.threads)
            except Exception as exc:
                outcome = Outcome(Status.ERROR, error=error_message(exc))
            else:
                limits = self.workload.limits
                outcome = run_isolated(_niced, (self.nice, fn, *args),
                                       timeout=limits.timeout_s(),
                                       memory_limit_mb=limits.memory_limit_mb,
                                       preload=self.workload.modules)
            yield Finished(task.key, outcome, local_host(), self.threads)

    def close(self):
        self.queue.clear()


@benchbase.hookimpl
def benchbase_register_executors():
    return [benchbase.ExecutorSpec(name="nice", factory=NiceExecutor,
                                   description="one trial at a time, at a lower priority")]
