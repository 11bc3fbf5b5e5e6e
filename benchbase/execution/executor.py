"""The executor seam: how planned trials get run, one place or many.

The orchestrator (``benchbase.execution.orchestrator``) skips the finished
trials, claims each trial before it runs and is the only writer of the result
store. An executor only runs what it is given:

1. ``open(workload)``: get ready and ship each dataset to where trials will
   run, once (never per trial);
2. ``submit(task)`` as long as ``capacity()`` says more would be useful (and,
   where ``memory_mb()`` names the memory the running trials share, as long
   as the trial's measured peak fits beside theirs: the orchestrator's rule);
3. ``poll(timeout)``: the ``Started`` and ``Finished`` events since the last
   poll, in the order they happened (an empty iterable when nothing happened
   within ``timeout`` seconds);
4. ``close()``: stop whatever still runs (an interrupt, an error) and release
   everything. Always called, once.

Executors are plugins: ``benchbase_register_executors()`` returns
``ExecutorSpec``s whose ``factory(**options)`` makes one; the built-ins
(``process``, ``inline``, ``dask``) register in ``benchbase.execution.builtin``
exactly so. ``docs/plugins.md`` shows a complete third-party executor.

Rules every executor follows, so every executor gives the same answers:

* the trial's arguments come from ``TrialTask.call`` (the split is drawn from
  the trial's seed and checked against the planned ``subset_hash``);
* threads per trial come from ``workload.limits.trial_threads``: the run's,
  or the host's cores shared out among the trials it runs at once; never more
  in total than the host's cores unless the run oversubscribes;
* a trial that cannot finish is a ``Finished`` event with a failure
  ``Outcome``, never an exception out of ``poll``; only losing what runs
  every trial (a Dask scheduler gone) is: ``ExecutorLost``, after which the
  orchestrator records the running trials as ``lost`` and stops the run.
"""

from __future__ import annotations

import abc
import dataclasses
import socket
from collections.abc import Iterable, Mapping, Sequence

from benchbase.execution.limits import Limits
from benchbase.results.record import Outcome
from benchbase.specs import Dataset
from benchbase.trial.task import TrialTask


class ExecutorLost(ConnectionError):
    """What runs the trials went away (a Dask scheduler): no trial can finish.
    The message says what was lost, in one line."""


@dataclasses.dataclass(frozen=True)
class Workload:
    """What every trial of a run shares, given to ``Executor.open``."""

    datasets: Mapping[str, Dataset]
    #: Modules the trials import (the algorithms' plugins, torch): import them
    #: once in the process that forks trial processes, not in every trial.
    modules: Sequence[str] = ()
    limits: Limits = dataclasses.field(default_factory=Limits)


@dataclasses.dataclass(frozen=True)
class Started:
    """A trial began running on ``host``."""

    key: str
    host: str


@dataclasses.dataclass(frozen=True)
class Finished:
    """A trial ended, with its ``Outcome``, on ``host``."""

    key: str
    outcome: Outcome
    host: str
    #: The threads it was given (None: it never reached a host that decides).
    threads: int | None


Event = Started | Finished


class Executor(abc.ABC):
    """Runs trials where it likes; see the module's docstring for the protocol."""

    @abc.abstractmethod
    def open(self, workload: Workload) -> None:
        """Get ready to run trials of ``workload``; ship its datasets.

        Raise ``ExecutorOptionError`` for settings it cannot honour (e.g. a
        timeout it cannot enforce) and ``OSError`` when what it needs cannot
        be reached.
        """

    @abc.abstractmethod
    def capacity(self) -> int:
        """How many submitted, unfinished trials are worth having now."""

    def memory_mb(self) -> float | None:
        """MiB of memory the trials running at once share (one host's), or
        None where it is unknown or they run on several hosts: then trials
        start whatever memory the running ones held before."""
        return None

    @abc.abstractmethod
    def submit(self, task: TrialTask) -> None:
        """Run ``task`` (now, or when a slot frees)."""

    @abc.abstractmethod
    def poll(self, timeout: float) -> Iterable[Event]:
        """Events since the last poll, waiting up to ``timeout`` s for the first.

        Raises ``ExecutorLost`` when no submitted trial can finish any more.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the trials still running and release everything."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def local_host() -> str:
    return socket.gethostname()
