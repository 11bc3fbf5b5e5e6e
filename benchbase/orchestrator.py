"""Running a benchmark: plan the trials, skip the finished ones, execute the rest.

Planning (``plan``) decides everything that identifies a trial without
running it: its split's rows and their hash, its search space, its key, and
whether the store already holds it. Executing is an executor's
(``benchbase.execution``): the orchestrator hands it one claimed trial at a
time, as long as it has room, and saves each result and reports progress in
the order the trials finish. It is the only writer of the store.

A trial is claimed in the store before it is submitted (``ResultStore.claim``),
so a second run into the same folder skips what the first is running and takes
over what the first leaves; a row another run saved meanwhile is adopted, not
recomputed. Whatever happens (the end, an error, Ctrl-C, SIGTERM turned into
an exception by the command line), running trials are stopped, claims
released and ``results.csv`` consolidated from the log.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import inspect
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sklearn.model_selection import ParameterGrid

import benchbase
from benchbase import provenance
from benchbase.execution import (
    Executor,
    ExecutorOptionError,
    Finished,
    Started,
    TrialTask,
    Workload,
)
from benchbase.linalg import linalg_backend
from benchbase.plugins import Catalog
from benchbase.runner import Trial, check_params, search_grid, trial_key
from benchbase.selection import check_strategy, fits_needed, resolve_strategy
from benchbase.specs import AlgorithmSpec, DataContext, Dataset, ExecutorSpec
from benchbase.splits import Protocol, split_indices, subset_sizes, validation_size
from benchbase.store import ResultStore

#: Seconds between checks when every trial left is claimed by another run.
CLAIM_POLL_S = 1.0
#: Longest wait for an executor's events: the progress display's refresh period.
POLL_S = 1.0

#: ``progress(event, trial, row)``: "skip" (finished before this run: ``row``),
#: "adopt" (saved by another run into the same folder meanwhile: ``row``),
#: "start", "done" (``row``), and "wait" (no trial, about once a second while
#: trials run: time to redraw).
ProgressFn = Callable[[str, Trial | None, dict | None], None]


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@dataclasses.dataclass
class RunOptions:
    """How to run: see ``benchbase run --help`` for the command-line names."""

    #: BLAS/OpenMP, torch and Numba threads per trial; None: a host's usable
    #: cores divided by the trials it runs at once.
    threads: int | None = None
    #: Seconds before a trial is killed; None: ``execution.DEFAULT_TIMEOUT_S``
    #: where the executor can kill trials; ``math.inf``: never.
    timeout: float | None = None
    #: Resident memory (MiB) above which a trial is killed (status ``memory``).
    memory_limit_mb: float | None = None
    executor: str = "process"
    #: Keyword arguments of the executor's factory (``jobs``, ``scheduler``, ...).
    executor_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: Allow more threads in total than a host has cores.
    oversubscribe: bool = False
    data_context: DataContext = dataclasses.field(default_factory=DataContext)
    #: "auto", "grid" or "halving": see ``benchbase.selection``.
    selection: str = "auto"

    def __post_init__(self) -> None:
        check_strategy(self.selection)
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout}")
        if self.memory_limit_mb is not None and not self.memory_limit_mb > 0:
            raise ValueError(f"memory limit must be > 0 MiB, got {self.memory_limit_mb}")


def plan_trials(algorithms: Iterable[str], datasets: Iterable[str],
                protocol: Protocol, seeds: Iterable[int],
                params: Mapping[str, Mapping[str, Any]] | None = None) -> list[Trial]:
    params = params or {}
    return [
        Trial(algorithm, dataset, protocol, seed, dict(params.get(algorithm, {})))
        for dataset in datasets
        for seed in seeds
        for algorithm in algorithms
    ]


@dataclasses.dataclass
class PlannedTrial:
    trial: Trial
    task: TrialTask
    #: The row's fields known before the trial runs.
    row: dict[str, Any]
    #: Monotonic time it was submitted, then when it started on a worker.
    started: float = 0.0

    @property
    def key(self) -> str:
        return self.task.key


@dataclasses.dataclass
class Plan:
    trials: list[PlannedTrial]
    datasets: dict[str, Dataset]
    #: The algorithms' modules, for executors to import ahead of the trials.
    modules: list[str]


def plan(catalog: Catalog, trials: list[Trial],
         data_context: DataContext | None = None, selection: str = "auto") -> Plan:
    """Identify every trial (key, split, search space, how it selects) and load
    its data."""
    specs = {t.algorithm: catalog.algorithm(t.algorithm) for t in trials}
    for trial in trials:
        check_params(specs[trial.algorithm], trial.fixed_params)
    datasets: dict[str, Dataset] = {}
    dataset_specs = {}
    for name in dict.fromkeys(t.dataset for t in trials):  # load all before running
        dataset_specs[name] = catalog.dataset(name)
        datasets[name] = dataset_specs[name].open(data_context or DataContext())
    splits: dict[tuple, tuple[int, int, str]] = {}  # the algorithms of a seed share one
    planned = []
    for trial in trials:
        spec, data = specs[trial.algorithm], datasets[trial.dataset]
        sizes = subset_sizes(trial.protocol, dataset_specs[trial.dataset])
        if (trial.dataset, sizes, trial.seed) not in splits:
            try:
                train_idx, test_idx, subset_hash = split_indices(data, sizes, trial.seed)
            except ValueError as exc:
                raise ValueError(f"protocol {trial.protocol}: {exc}") from None
            splits[trial.dataset, sizes, trial.seed] = (len(train_idx), len(test_idx),
                                                         subset_hash)
        n_train, n_test, subset_hash = splits[trial.dataset, sizes, trial.seed]
        plugin = catalog.algorithms.plugin_of(spec.name)
        plugin_label = f"{plugin.distribution} {plugin.version}"
        grid = search_grid(spec, n_train, data.n_features, trial.fixed_params)
        candidates = list(ParameterGrid(dict(grid)))
        strategy = resolve_strategy(
            selection, len(candidates), n_train - validation_size(n_train), spec.halving,
            n_fits=fits_needed(candidates, spec.shared_fit_params))
        key = trial_key(trial, grid, plugin_label, strategy, spec.shared_fit_params)
        task = TrialTask(key, trial.label(), spec, trial.dataset, sizes, subset_hash,
                         trial.seed, trial.fixed_params, grid, strategy)
        row = {
            "trial_key": key,
            "algorithm": spec.name,
            "variant": trial.variant,
            "family": spec.family,
            "dataset": trial.dataset,
            "protocol": str(trial.protocol),
            "seed": trial.seed,
            "subset_hash": subset_hash,
            "n_train": n_train,
            "n_test": n_test,
            "search_space": json.dumps(grid, sort_keys=True, default=repr),
            "plugin": plugin_label,
            "benchbase_version": benchbase.__version__,
            "error": "",
        }
        planned.append(PlannedTrial(trial, task, row))
    return Plan(planned, datasets, trial_modules(list(specs.values())))


def trial_modules(specs: list[AlgorithmSpec]) -> list[str]:
    """What the trials will import: the algorithms' modules and requirements, and
    torch when it is the linear-algebra backend (2-3 s to import, per process)."""
    modules = {spec.factory.__module__ for spec in specs}
    modules.update(name for spec in specs for name in spec.requires)
    if linalg_backend() == "torch":
        modules.add("torch")
    return sorted(modules)


def make_executor(spec: ExecutorSpec, options: Mapping[str, Any]) -> Executor:
    """``spec.factory(**options)``, refusing options it does not take by name."""
    signature = inspect.signature(spec.factory)
    try:
        signature.bind(**options)
    except TypeError:
        accepted = [name for name, parameter in signature.parameters.items()
                    if parameter.kind is parameter.KEYWORD_ONLY
                    or parameter.kind is parameter.POSITIONAL_OR_KEYWORD]
        wrong = sorted(set(options) - set(accepted)) or sorted(options)
        raise ExecutorOptionError(
            f"executor {spec.name!r} takes no option {', '.join(map(repr, wrong))}; "
            f"its options: {', '.join(accepted) or 'none'}") from None
    return spec.factory(**options)


class _Overlap:
    """The most trials running at once on a host while each trial ran."""

    def __init__(self) -> None:
        self._running: dict[str, set[str]] = collections.defaultdict(set)
        self._host: dict[str, str] = {}
        self._peak: dict[str, int] = {}

    def start(self, key: str, host: str) -> None:
        if key in self._host:  # started again (a Dask retry): count it where it is now
            self._running[self._host[key]].discard(key)
        self._host[key] = host
        on_host = self._running[host]
        on_host.add(key)
        for other in on_host:
            self._peak[other] = max(self._peak.get(other, 0), len(on_host))

    def finish(self, key: str, host: str) -> int:
        if key not in self._host:  # its start went unnoticed
            self.start(key, host)
        self._running[self._host.pop(key)].discard(key)
        return self._peak.pop(key)


def run_trials(catalog: Catalog, trials: list[Trial], store: ResultStore,
               options: RunOptions | None = None,
               progress: ProgressFn | None = None) -> list[dict[str, Any]]:
    """Run (or skip, if already finished) each trial; return their rows in plan order.

    Raises ``ExecutorOptionError`` for executor settings that cannot work
    (before any trial runs), ``PluginError`` for an unavailable executor.
    """
    options = options or RunOptions()
    executor = make_executor(catalog.executor(options.executor), options.executor_options)
    the_plan = plan(catalog, trials, options.data_context, options.selection)
    run = _Run(store, options.executor, progress or (lambda *_: None))
    pending = run.skip_finished(the_plan.trials)
    run_id = uuid.uuid4().hex[:12]
    workload = Workload(the_plan.datasets, the_plan.modules, options.threads,
                        options.timeout, options.memory_limit_mb, options.oversubscribe)
    try:
        with executor:
            if pending:
                executor.open(workload)  # refuses what it cannot do before the run counts
            store.start_run(provenance.run_record(run_id, utc_now()))
            if pending:
                run.execute(executor, pending, run_id)
    finally:
        store.release_all()
        store.consolidate()
    return [run.rows[item.key] for item in the_plan.trials if item.key in run.rows]


class _Run:
    """One run's bookkeeping: claims, rows, overlap and progress."""

    def __init__(self, store: ResultStore, executor_name: str, progress: ProgressFn) -> None:
        self.store = store
        self.executor_name = executor_name
        self.progress = progress
        self.rows: dict[str, dict[str, Any]] = {}
        self._others: dict[str, dict[str, Any]] = {}  # rows other runs saved meanwhile

    def skip_finished(self, planned: list[PlannedTrial]) -> collections.deque[PlannedTrial]:
        latest = {row["trial_key"]: row for row in self.store.new_rows(from_start=True)}
        pending: collections.deque[PlannedTrial] = collections.deque()
        seen = set()
        for item in planned:
            row = latest.get(item.key)
            if row is not None and row.get("status") == "ok":
                self.rows[item.key] = row
                self.progress("skip", item.trial, row)
            elif item.key not in seen:
                pending.append(item)
            seen.add(item.key)
        return pending

    def _adopted(self, item: PlannedTrial) -> bool:
        """Whether another run saved this trial since we planned (then use its row)."""
        for row in self.store.new_rows():
            self._others[row["trial_key"]] = row
        row = self._others.get(item.key)
        if row is None:
            return False
        self.rows[item.key] = row
        self.progress("adopt", item.trial, row)
        return True

    def _next(self, pending: collections.deque[PlannedTrial],
              deferred: list[PlannedTrial]) -> PlannedTrial | None:
        """The next trial this run may run, claimed; None if none is free now."""
        while pending:
            item = pending.popleft()
            if self.store.claim(item.key):
                if not self._adopted(item):
                    return item
                self.store.release(item.key)
            else:
                deferred.append(item)  # another run is on it; look again later
        for item in list(deferred):
            if self.store.claim(item.key):
                deferred.remove(item)
                if not self._adopted(item):
                    return item
                self.store.release(item.key)
        return None

    def execute(self, executor: Executor, pending: collections.deque[PlannedTrial],
                run_id: str) -> None:
        deferred: list[PlannedTrial] = []
        running: dict[str, PlannedTrial] = {}
        overlap = _Overlap()
        while pending or deferred or running:
            while len(running) < executor.capacity():
                item = self._next(pending, deferred)
                if item is None:
                    break
                item.row.update(started_at=utc_now(), run_id=run_id)
                item.started = time.monotonic()
                running[item.key] = item
                executor.submit(item.task)
            if not running:
                time.sleep(CLAIM_POLL_S)  # only trials another run holds are left
                self.progress("wait", None, None)
                continue
            for event in executor.poll(POLL_S):
                item = running.get(event.key)
                if item is None:  # a late notice of a trial already saved
                    continue
                if isinstance(event, Started):
                    overlap.start(event.key, event.host)
                    item.row["started_at"] = utc_now()
                    item.started = time.monotonic()
                    self.progress("start", item.trial, None)
                elif isinstance(event, Finished):
                    concurrency = overlap.finish(event.key, event.host)
                    self._save(item, event, concurrency)
                    del running[event.key]
            self.progress("wait", None, None)

    def _save(self, item: PlannedTrial, event: Finished, concurrency: int) -> None:
        row = {**item.row, "status": event.status, "host": event.host,
               "threads": event.threads, "concurrency": concurrency,
               "executor": self.executor_name,
               "trial_seconds": round(time.monotonic() - item.started, 3)}
        arrays = None
        if event.status == "ok":
            result = dict(event.result or {})
            arrays = result.pop("artifacts")
            row.update(result)
        else:
            row["error"] = event.error
        self.store.append(row, arrays)
        self.store.release(item.key)
        self.rows[item.key] = row
        self.progress("done", item.trial, row)
