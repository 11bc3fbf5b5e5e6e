"""The ``dask`` executor: trials on a Dask cluster, each in its own process on its worker.

``benchbase run --scheduler tcp://HOST:8786`` uses a running cluster;
``--dask-workers N`` starts a local one (N worker processes, one trial at a
time each) and stops it at the end. Needs ``pip install 'benchbase-suite[dask]'``
on the machine that runs ``benchbase`` and on every worker, with the same
algorithm plugins (``docs/execution.md``).

* Data: the run's datasets travel in a worker plugin (``_DatasetsOnWorker``),
  pickled once, which the scheduler hands to every worker once, to workers
  that join later too, and which each worker holds until the run ends. A task
  carries only its ``TrialTask`` and the run's name (a few kB, the same for
  digits and full MNIST); the worker draws the trial's split from its copy
  and hands it to the trial's process through a local pipe. Not scattered
  data: Dask's active memory manager drops the "extra" replicas of scattered
  data within seconds, and when the worker holding the last one dies, the
  scheduler forgets the data and cancels every trial that needs it.
* Isolation: a worker runs each trial with ``benchbase.execution.isolation.run_isolated``, so
  timeouts, memory limits, crash detection and per-trial peak memory mean
  what they mean locally, and trial processes die with their worker.
* A worker that dies mid-trial: Dask runs the task again elsewhere, and the
  orchestrator allows that once (it counts the notices each attempt sends
  when it starts); a trial whose worker dies a second time is recorded
  ``crashed``, as is one Dask gives up on (``KilledWorker``).
* Cancelled trials (Ctrl-C; an orchestrator that died, whose tasks the
  scheduler drops) are killed by their worker within a second, instead of
  running to their timeout.
* Threads: ``--threads`` per trial, else a host's cores divided by the trials
  all its workers run at once (their ``nthreads``); a host's total is
  checked against its cores unless ``--oversubscribe``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import multiprocessing
import queue
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import dask
import distributed

from benchbase.execution.executor import (
    Event,
    Executor,
    ExecutorLost,
    Finished,
    Started,
    Workload,
)
from benchbase.execution.isolation import error_message, memory_limit_supported, run_isolated
from benchbase.execution.limits import ExecutorOptionError, Limits, at_least_one
from benchbase.results.provenance import usable_cores
from benchbase.results.record import Outcome, Status
from benchbase.specs import Dataset
from benchbase.trial.task import TrialTask

#: The event topic of the notices trials send when they start on a worker.
STARTED_TOPIC = "benchbase-trial-started"
#: Attempts a trial gets when its worker dies under it.
ATTEMPTS = 2
#: Seconds a client gets to close.
CLOSE_TIMEOUT_S = 5.0
#: Seconds without the scheduler before a run gives it up (it drops every
#: trial when its connection breaks; the client notices within a second).
LOST_AFTER_S = 1.0


@dataclasses.dataclass(frozen=True)
class WorkerSettings:
    """What a worker needs besides the task and the dataset (the same for all)."""

    #: Threads per trial on each host known when the run started.
    host_threads: Mapping[str, int]
    limits: Limits
    modules: Sequence[str]

    def threads_on(self, host: str, trials_at_once: int) -> int:
        if host in self.host_threads:
            return self.host_threads[host]
        # A host that joined later.
        return self.limits.trial_threads(trials_at_once, where=f"host {host}")


def _cancelled(worker: distributed.Worker, key: str) -> bool:
    task = worker.state.tasks.get(key)
    return task is None or task.state != "executing"


#: The datasets of the runs this worker serves: run name -> dataset name -> Dataset.
_DATASETS: dict[str, Mapping[str, Dataset]] = {}


class _DatasetsOnWorker(distributed.WorkerPlugin):
    """A run's datasets, held by every worker of the cluster while the run lasts."""

    def __init__(self, run: str, datasets: Mapping[str, Dataset]) -> None:
        self.run = run
        self.datasets = dict(datasets)

    def setup(self, worker: distributed.Worker) -> None:
        _DATASETS[self.run] = self.datasets

    def teardown(self, worker: distributed.Worker) -> None:
        _DATASETS.pop(self.run, None)


def run_on_worker(task: TrialTask, run: str, settings: WorkerSettings) -> Finished:
    """The Dask task of one trial: run it in a child process of this worker."""
    worker = distributed.get_worker()
    key = worker.get_current_task()
    host = socket.gethostname()
    worker.log_event(STARTED_TOPIC, {"trial": task.key, "host": host})
    # Dask makes its workers daemonic processes, which multiprocessing forbids
    # children because it could not reap them; ours die with their parent by
    # themselves (benchbase.execution.isolation), so the guard does not apply.
    multiprocessing.current_process().daemon = False
    threads = None
    try:
        threads = settings.threads_on(host, worker.state.nthreads)
        fn, args = task.call(_DATASETS[run][task.dataset], threads)
    except Exception as exc:
        outcome = Outcome(Status.ERROR, error=error_message(exc))
    else:
        outcome = run_isolated(fn, args, timeout=settings.limits.timeout_s(),
                               memory_limit_mb=settings.limits.memory_limit_mb,
                               preload=settings.modules,
                               cancelled=lambda: _cancelled(worker, key))
    return Finished(task.key, outcome, host, threads)


@contextlib.contextmanager
def _ignoring_ctrl_c() -> Iterator[None]:
    """Start processes that ignore SIGINT (the disposition survives exec).

    Ctrl-C reaches the terminal's whole process group; the local cluster's
    workers would die with a traceback each, while ``benchbase run`` stops
    them in order itself.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


#: The levels of Dask's loggers before a run quieted them.
_DASK_LOG_LEVELS: dict[str, int] = {}


def _quiet_dask(quiet: bool) -> None:
    """Keep Dask's own log lines (a lost connection, retries) off the terminal
    while a run uses it: what matters reaches the run as an outcome or as
    ``ExecutorLost``, in benchbase's words. Dask sets levels on its modules'
    loggers, so each is quieted (and restored) on its own."""
    if not quiet:
        for name, level in _DASK_LOG_LEVELS.items():
            logging.getLogger(name).setLevel(level)
        _DASK_LOG_LEVELS.clear()
        return
    names = ["distributed", *(name for name in logging.root.manager.loggerDict
                              if name.startswith("distributed."))]
    for name in names:
        logger = logging.getLogger(name)
        _DASK_LOG_LEVELS.setdefault(name, logger.level)
        logger.setLevel(logging.CRITICAL)


def _worker_facts() -> dict[str, Any]:
    return {"host": socket.gethostname(), "cores": usable_cores(),
            "memory_limit": memory_limit_supported()}


class DaskExecutor(Executor):
    """Trials on a Dask cluster: an existing one (``scheduler``) or a local one."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 connect_timeout: float = 30.0) -> None:
        if scheduler is not None and workers is not None:
            raise ExecutorOptionError("give --scheduler (a running cluster) or "
                                      "--dask-workers (a local one), not both")
        at_least_one("workers", workers, ExecutorOptionError)
        self.scheduler = scheduler
        self.workers = workers
        self.connect_timeout = connect_timeout
        self._client: distributed.Client | None = None
        self._cluster: distributed.LocalCluster | None = None
        self._run: str | None = None  # the name of the run's _DatasetsOnWorker
        self._futures: dict[str, distributed.Future] = {}
        self._trial_of: dict[str, str] = {}  # Dask key -> trial key
        self._starts: collections.Counter[str] = collections.Counter()
        self._hosts: dict[str, str] = {}
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._where = ""  # the cluster, in words
        self._lost_since: float | None = None
        self._capacity = 1

    def open(self, workload: Workload) -> None:
        _quiet_dask(True)
        self._client = self._connect()
        self._settings = WorkerSettings(self._host_threads(workload), workload.limits,
                                        tuple(workload.modules))
        self._run = f"benchbase-datasets-{uuid.uuid4().hex}"
        try:
            self._client.register_plugin(_DatasetsOnWorker(self._run, workload.datasets),
                                         name=self._run)
        except Exception as exc:  # raised on a worker, e.g. one without benchbase
            raise ConnectionError("a Dask worker could not take the run's datasets "
                                  f"({error_message(exc)}); every worker needs "
                                  "benchbase and the run's plugins") from None
        self._client.subscribe_topic(STARTED_TOPIC, self._events.put)

    def _connect(self) -> distributed.Client:
        if self.scheduler is None:
            # A second start would exceed one retry anyway (see ATTEMPTS).
            with dask.config.set({"distributed.scheduler.allowed-failures": ATTEMPTS - 1}), \
                    _ignoring_ctrl_c():
                # No memory_limit: a worker holds only datasets and results (the
                # trials' memory is their own processes'), and a limit would make
                # it spill the datasets to disk and read them back per trial.
                # No dashboard; the scheduler's HTTP endpoints (health, metrics)
                # on a free local port: its default, 8787, warns and moves when
                # another cluster (another run) holds it.
                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers or usable_cores(), threads_per_worker=1,
                    processes=True, memory_limit=0, dashboard_address=None,
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    silence_logs=logging.ERROR)
            self._where = "the local Dask cluster"
            client = distributed.Client(self._cluster, set_as_default=False)
        else:
            self._where = f"the Dask scheduler at {self.scheduler}"
            try:
                client = distributed.Client(self.scheduler, timeout=self.connect_timeout,
                                            set_as_default=False)
            except (OSError, asyncio.TimeoutError) as exc:
                raise ConnectionError(f"cannot reach {self._where} ({exc})") from None
        try:
            client.wait_for_workers(1, timeout=self.connect_timeout)
        except (OSError, asyncio.TimeoutError):
            client.close()
            raise ConnectionError(f"no worker joined {self._where} within "
                                  f"{self.connect_timeout:g} s") from None
        return client

    def _host_threads(self, workload: Workload) -> dict[str, int]:
        """Threads per trial on each host, from all its workers' trials at once."""
        facts = self._client.run(_worker_facts)
        if workload.limits.memory_limit_mb is not None and not all(
                fact["memory_limit"] for fact in facts.values()):
            raise ExecutorOptionError("a memory limit needs Linux (/proc) on every worker")
        slots: collections.Counter[str] = collections.Counter()
        cores: dict[str, int] = {}
        for address, nthreads in self._client.nthreads().items():
            if address in facts:
                slots[facts[address]["host"]] += nthreads
                cores[facts[address]["host"]] = facts[address]["cores"]
        return {host: workload.limits.trial_threads(trials_at_once, where=f"host {host}",
                                                    cores=cores[host])
                for host, trials_at_once in slots.items()}

    def capacity(self) -> int:
        if self._client.status == "running":  # else asking would wait for a timeout
            # A scheduler can vanish before the client's status says so: the
            # last figure stands, and ``poll`` reports the loss.
            with contextlib.suppress(OSError):
                self._capacity = max(1, sum(self._client.nthreads().values()))
        return self._capacity

    def submit(self, task: TrialTask) -> None:
        future = self._client.submit(
            run_on_worker, task, self._run, self._settings,
            key=f"benchbase-trial-{task.key}-{uuid.uuid4().hex[:8]}", pure=False)
        self._futures[task.key] = future
        self._trial_of[future.key] = task.key
        future.add_done_callback(self._events.put)

    def poll(self, timeout: float) -> list[Event]:
        self._check_scheduler()
        try:
            items = [self._events.get(timeout=min(timeout, LOST_AFTER_S))]
        except queue.Empty:
            return []
        while not self._events.empty():
            items.append(self._events.get())
        events: list[Event] = []
        for item in items:
            if isinstance(item, tuple):  # (time, notice) from a starting trial
                event = self._started(item[1])
            else:
                event = self._finished(item)
            if event is not None:
                events.append(event)
        return events

    def _lost(self) -> bool:
        return self._client is not None and self._client.status != "running"

    def _check_scheduler(self) -> None:
        """``ExecutorLost`` once the client has been cut off from its scheduler
        for ``LOST_AFTER_S`` seconds (the scheduler dropped every trial then)."""
        if not self._lost():
            self._lost_since = None
            return
        now = time.monotonic()
        self._lost_since = self._lost_since or now
        if now - self._lost_since >= LOST_AFTER_S:
            raise ExecutorLost(f"lost {self._where}")

    def _started(self, notice: dict[str, str]) -> Event | None:
        key = notice["trial"]
        if key not in self._futures:
            return None
        self._starts[key] += 1
        self._hosts[key] = notice["host"]
        if self._starts[key] <= ATTEMPTS:
            return Started(key, notice["host"])
        self._futures.pop(key).cancel()
        return self._failed(key, Status.CRASHED, f"its Dask worker died under it "
                            f"{ATTEMPTS} times; not tried again")

    def _finished(self, future: distributed.Future) -> Event | None:
        key = self._trial_of.pop(future.key, None)
        if key is None or self._futures.get(key) is not future:
            return None  # cancelled above
        if future.status == "cancelled" and self._lost():
            return None  # the scheduler is gone: ``_check_scheduler`` says so, once
        del self._futures[key]
        if future.status == "finished":
            return future.result()
        if future.status == "error":
            exc = future.exception()
            if isinstance(exc, distributed.KilledWorker):
                return self._failed(key, Status.CRASHED,
                                    f"its Dask worker died under it ({exc})")
            return self._failed(key, Status.ERROR,
                                f"the Dask task failed: {error_message(exc)}")
        return self._failed(key, Status.CRASHED, f"the Dask task was {future.status}")

    def _failed(self, key: str, status: Status, error: str) -> Finished:
        host = self._hosts.get(key, "")
        return Finished(key, Outcome(status, error=error), host,
                        self._settings.host_threads.get(host))

    def close(self) -> None:
        if self._client is not None:
            if self._client.status == "running":
                self._client.cancel(list(self._futures.values()))
                if self._run is not None and self._cluster is None:
                    # Frees the datasets on a cluster that outlives the run.
                    with contextlib.suppress(Exception):
                        self._client.unregister_worker_plugin(self._run)
            # A client cut off from its scheduler may complain while closing.
            with contextlib.suppress(Exception):
                self._client.close(timeout=CLOSE_TIMEOUT_S)
        if self._cluster is not None:
            self._cluster.close()
        _quiet_dask(False)
