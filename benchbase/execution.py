"""The executor seam: how planned trials get run, one place or many.

The orchestrator (``benchbase.orchestrator.run_trials``) plans the trials,
skips the finished ones, claims each trial before it runs and is the only
writer of the result store. An executor only runs what it is given:

1. ``open(workload)``: get ready and ship each dataset to where trials will
   run, once (never per trial);
2. ``submit(task)`` as long as ``capacity()`` says more would be useful;
3. ``poll(timeout)``: the ``Started`` and ``Finished`` events since the last
   poll, in the order they happened (an empty iterable when nothing happened
   within ``timeout`` seconds);
4. ``close()``: stop whatever still runs (an interrupt, an error) and release
   everything. Always called, once.

Executors are plugins: ``benchbase_register_executors()`` returns
``ExecutorSpec``s whose ``factory(**options)`` makes one; the built-ins
(``process``, ``inline``, ``dask``) register in ``benchbase.executors``
exactly so. ``docs/plugins.md`` shows a complete third-party executor.

Rules every executor follows, so every executor gives the same answers:

* the trial's arguments come from ``TrialTask.call`` (the split is drawn from
  the trial's seed and checked against the planned ``subset_hash``);
* ``threads`` per trial come from ``trial_threads``: the workload's, or the
  host's cores shared out among the trials it runs at once; never more in
  total than the host's cores unless ``oversubscribe`` is set;
* a trial that cannot finish is a ``Finished`` event with a failure status,
  never an exception out of ``poll``.
"""

from __future__ import annotations

import abc
import dataclasses
import math
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from benchbase.isolation import Outcome
from benchbase.provenance import usable_cores
from benchbase.runner import evaluate
from benchbase.specs import AlgorithmSpec, Dataset
from benchbase.splits import take_split

#: Seconds a trial may run when no timeout is given: generous for full MNIST.
#: The slowest trial measured, DDAE with its per-sample masks on MNIST's paper
#: protocol, took 520 s for 6,000 training images on one thread beside another
#: trial (reports/paper, before its kernels vectorized on AVX2); its cost grows
#: linearly with the images, so full MNIST (60,000) needs about 90 minutes,
#: twice that on a busy machine: under 3 hours. Six hours covers that with
#: room, and a run with a hanging plugin still ends the same day.
DEFAULT_TIMEOUT_S = 6 * 3600.0

#: Statuses of a finished trial.
STATUSES = ("ok", "error", "timeout", "crashed", "memory")


class ExecutorOptionError(ValueError):
    """An option an executor cannot honour (a usage error, not a failed trial)."""


@dataclasses.dataclass(frozen=True)
class TrialTask:
    """One trial as an executor sees it: small and picklable.

    The dataset is not in it: the executor ships every dataset once
    (``Workload.datasets``) and hands it to ``call`` where the trial runs.
    """

    key: str
    label: str
    spec: AlgorithmSpec
    dataset: str
    #: (n_train, n_test) drawn at random per seed; None: the official split.
    split_sizes: tuple[int, int] | None
    subset_hash: str
    seed: int
    fixed_params: Mapping[str, Any]
    grid: Mapping[str, list]
    #: How selection runs: "grid" or "halving" (``benchbase.selection``).
    strategy: str = "grid"

    def call(self, data: Dataset, threads: int) -> tuple[Callable[..., dict], tuple]:
        """The function and arguments that run the trial on ``data``.

        The trial's split is drawn here, from its seed; a subset other than
        the planned one (another NumPy on a worker?) is refused, since it
        would make the result incomparable.
        """
        split = take_split(data, self.split_sizes, self.seed)
        if split.indices_hash != self.subset_hash:
            raise RuntimeError(
                f"{self.label}: this machine drew a different subset of {self.dataset!r} "
                f"({split.indices_hash}, planned {self.subset_hash}); is its NumPy "
                "another version than the orchestrator's?")
        return evaluate, (self.spec, split, self.seed, self.fixed_params, self.grid,
                          threads, self.strategy)


@dataclasses.dataclass(frozen=True)
class Workload:
    """What every trial of a run shares, given to ``Executor.open``."""

    datasets: Mapping[str, Dataset]
    #: Modules the trials import (the algorithms' plugins, torch): import them
    #: once in the process that forks trial processes, not in every trial.
    modules: Sequence[str] = ()
    #: BLAS/torch/Numba threads per trial; None: see ``trial_threads``.
    threads: int | None = None
    #: Seconds before a trial is killed; None: ``DEFAULT_TIMEOUT_S`` where the
    #: executor can kill trials, math.inf: never.
    timeout: float | None = None
    #: Resident memory (MiB) above which a trial is killed; None: no limit.
    memory_limit_mb: float | None = None
    #: Allow more threads in total than a host has cores.
    oversubscribe: bool = False

    def timeout_s(self) -> float | None:
        """The timeout to enforce, in seconds (None: none)."""
        if self.timeout is None:
            return DEFAULT_TIMEOUT_S
        return None if math.isinf(self.timeout) else self.timeout


@dataclasses.dataclass(frozen=True)
class Started:
    """A trial began running on ``host``."""

    key: str
    host: str


@dataclasses.dataclass(frozen=True)
class Finished:
    """A trial ended: its status, its result fields when ``ok`` (``evaluate``'s,
    artifacts included), else its error message."""

    key: str
    status: str
    result: dict[str, Any] | None
    error: str
    host: str
    #: The threads it was given (None: it never reached a host that decides).
    threads: int | None

    @classmethod
    def from_outcome(cls, key: str, outcome: Outcome, host: str,
                     threads: int | None) -> Finished:
        return cls(key, outcome.status, outcome.result, outcome.error, host, threads)


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

    @abc.abstractmethod
    def submit(self, task: TrialTask) -> None:
        """Run ``task`` (now, or when a slot frees)."""

    @abc.abstractmethod
    def poll(self, timeout: float) -> Iterable[Event]:
        """Events since the last poll, waiting up to ``timeout`` s for the first."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the trials still running and release everything."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def trial_threads(trials_at_once: int, threads: int | None, oversubscribe: bool,
                  where: str = "this machine", cores: int | None = None) -> int:
    """BLAS/torch/Numba threads for each trial of a host running ``trials_at_once``.

    ``threads`` if given, else the host's usable cores shared out. Refused
    (``ExecutorOptionError``) when they add up to more than its cores,
    unless ``oversubscribe``.
    """
    cores = cores or usable_cores()
    threads = threads or max(1, cores // max(1, trials_at_once))
    if not oversubscribe and trials_at_once * threads > cores:
        raise ExecutorOptionError(
            f"{trials_at_once} trials at once × {threads} threads each = "
            f"{trials_at_once * threads} threads on {where}, which has {cores} cores; "
            "use fewer, or --oversubscribe if you mean it (timings suffer)")
    return threads


def local_host() -> str:
    return socket.gethostname()
