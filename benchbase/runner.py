"""Trials: select on validation data, refit, test once, timed; isolated and resumable.

A trial is algorithm × dataset × protocol × seed (× fixed parameters). Inside a
trial the harness:

1. carves a stratified validation split from the training part,
2. fits every point of the algorithm's search space on the rest and scores it
   on the validation split (the first best point wins ties),
3. refits the chosen parameters on the whole training part (timed),
4. predicts the test data once (timed).

Each trial runs in a child process by default, so a plugin that crashes the
interpreter, leaks memory or hangs past ``timeout`` is recorded as failed and
the run goes on; peak memory is then the child's own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import multiprocessing
import os
import sys
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np
from sklearn.model_selection import ParameterGrid

import benchbase
from benchbase import artifacts, provenance
from benchbase.plugins import Catalog
from benchbase.specs import AlgorithmSpec, DataContext, Dataset
from benchbase.splits import Protocol, Split, make_split, validation_split
from benchbase.store import ResultStore
from benchbase.timing import blas_threads, peak_rss_mb, timed

ISOLATIONS = ("process", "none")


@dataclasses.dataclass(frozen=True)
class Trial:
    algorithm: str
    dataset: str
    protocol: Protocol
    seed: int
    fixed_params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def label(self) -> str:
        return f"{self.algorithm} on {self.dataset} ({self.protocol}, seed {self.seed})"


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _dumps(obj: Mapping[str, Any]) -> str:
    return json.dumps({k: _jsonable(v) for k, v in obj.items()}, sort_keys=True,
                      default=repr)


def trial_key(trial: Trial, grid: Mapping[str, list], plugin: str) -> str:
    identity = {
        "algorithm": trial.algorithm,
        "dataset": trial.dataset,
        "protocol": str(trial.protocol),
        "seed": trial.seed,
        "fixed_params": _dumps(trial.fixed_params),
        "search_space": json.dumps(grid, sort_keys=True, default=repr),
        "plugin": plugin,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def make_estimator(spec: AlgorithmSpec, params: Mapping[str, Any], seed: int):
    kwargs = {**spec.defaults, **params}
    if spec.randomized:
        kwargs.setdefault("random_state", seed)
    return spec.factory(**kwargs)


def search_grid(spec: AlgorithmSpec, n_samples: int, n_features: int,
                fixed_params: Mapping[str, Any]) -> dict[str, list]:
    """The search space minus the parameters the user fixed."""
    grid = spec.grid(n_samples, n_features)
    return {k: v for k, v in grid.items() if k not in fixed_params}


def check_params(spec: AlgorithmSpec, params: Mapping[str, Any]) -> None:
    """Reject parameter names the estimator does not have (before any trial runs)."""
    known = set(make_estimator(spec, {}, 0).get_params())
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(
            f"algorithm {spec.name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters: {', '.join(sorted(known))}"
        )


def score_candidates(spec: AlgorithmSpec, X_fit, y_fit, X_val, y_val,
                     grid: Mapping[str, list], candidates: list[dict],
                     fixed_params: Mapping[str, Any], seed: int) -> list[float]:
    """Validation accuracy of every candidate, in ``candidates`` order."""
    if spec.score_grid is not None:
        scored = spec.score_grid(
            X_fit=X_fit, y_fit=y_fit, X_val=X_val, y_val=y_val, grid=dict(grid),
            fixed_params={**spec.defaults, **fixed_params},
            random_state=seed if spec.randomized else None)
        if scored is not None:
            by_key = {_dumps(candidate): float(score) for candidate, score in scored}
            wanted = [_dumps(candidate) for candidate in candidates]
            if len(scored) != len(candidates) or set(by_key) != set(wanted):
                raise RuntimeError(
                    f"algorithm {spec.name!r}: its score_grid() did not score each "
                    "grid point exactly once"
                )
            return [by_key[key] for key in wanted]
    scores = []
    for candidate in candidates:
        model = make_estimator(spec, {**fixed_params, **candidate}, seed)
        model.fit(X_fit, y_fit)
        scores.append(float(model.score(X_val, y_val)))
    return scores


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """Cap BLAS/OpenMP/torch threads for the block, then restore the settings."""
    from threadpoolctl import threadpool_limits

    saved_env = {var: os.environ.get(var) for var in _THREAD_VARIABLES}
    torch = sys.modules.get("torch")
    saved_torch = torch.get_num_threads() if torch is not None else None
    for var in _THREAD_VARIABLES:
        os.environ[var] = str(threads)  # libraries loaded later read these
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        for var, value in saved_env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
        if torch is not None:
            torch.set_num_threads(saved_torch)


def evaluate(spec: AlgorithmSpec, split: Split, seed: int,
             fixed_params: Mapping[str, Any], grid: Mapping[str, list],
             threads: int) -> dict[str, Any]:
    """Model selection, final fit and test of one trial; returns result fields."""
    with limited_threads(threads):
        metrics: dict[str, Any] = {"blas_threads": blas_threads()}
        candidates = list(ParameterGrid(dict(grid))) if grid else [{}]
        best, scores = candidates[0], []
        with timed() as selection:
            if len(candidates) > 1:
                X_fit, X_val, y_fit, y_val = validation_split(
                    split.X_train, split.y_train, seed)
                scores = score_candidates(spec, X_fit, y_fit, X_val, y_val, grid,
                                          candidates, fixed_params, seed)
                best_index = int(np.argmax(scores))  # the first best wins ties
                best = candidates[best_index]
                metrics["val_accuracy"] = float(scores[best_index])
        metrics["select_seconds"] = selection.wall_seconds
        metrics["n_candidates"] = len(candidates)

        params = {**fixed_params, **best}
        model = make_estimator(spec, params, seed)
        with timed() as fit:
            model.fit(split.X_train, split.y_train)
        with timed() as predict:
            y_pred = model.predict(split.X_test)
        metrics.update(
            params=_dumps(params),
            fit_info=_dumps(getattr(model, "fit_info_", {})),
            fit_seconds=fit.wall_seconds,
            fit_cpu_seconds=fit.cpu_seconds,
            predict_seconds=predict.wall_seconds,
            predict_cpu_seconds=predict.cpu_seconds,
            test_accuracy=float(np.mean(y_pred == split.y_test)),
            train_accuracy=float(model.score(split.X_train, split.y_train)),
            artifacts=trial_artifacts(spec, model, split, y_pred,
                                      candidates[:len(scores)], scores),
        )
        environment = provenance.environment()  # after the trial: its BLAS is loaded
        metrics.update(host=environment["host"], environment=_dumps(environment))
        return metrics


def trial_artifacts(spec: AlgorithmSpec, model, split: Split, y_pred: np.ndarray,
                    candidates: list[dict], scores: list[float]) -> dict[str, np.ndarray]:
    """The arrays kept with the trial (``benchbase.artifacts``): the harness's
    own, then the algorithm's ``trial_artifacts``."""
    arrays = {
        "y_test": split.y_test,
        "y_pred": np.asarray(y_pred),
        "candidates": np.array([_dumps(candidate) for candidate in candidates], dtype=str),
        "val_scores": np.asarray(scores, dtype=np.float64),
        "image_shape": np.asarray(split.image_shape, dtype=np.int64),
    }
    if spec.trial_artifacts is not None:
        owner = f"algorithm {spec.name!r}: trial_artifacts()"
        extra = artifacts.check_arrays(spec.trial_artifacts(model, split.X_test,
                                                            split.y_test), owner)
        shadowed = sorted(artifacts.CORE_NAMES & set(extra))
        if shadowed:
            raise ValueError(f"{owner} returned {shadowed}, names the harness uses")
        arrays.update(extra)
    return arrays


def _child_main(conn, fn: Callable[..., dict], args: tuple) -> None:
    try:
        result = fn(*args)
        result["peak_rss_mb"] = peak_rss_mb()
        conn.send(("ok", result))
    except BaseException as exc:  # report everything, even SystemExit
        tail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        conn.send(("error", tail, traceback.format_exc()))
    finally:
        conn.close()


def _context(preload: Iterable[str] = ()) -> multiprocessing.context.BaseContext:
    """A start method that never forks this (possibly multi-threaded) process.

    A child forked after the parent ran OpenMP work (torch, for one) can hang
    in its first parallel region. The fork server is a clean process that
    imports ``preload`` once and forks each trial from there; spawn elsewhere.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["benchbase.runner", *preload])  # first call wins
    return ctx


def run_isolated(fn: Callable[..., dict], args: tuple, timeout: float | None,
                 preload: Iterable[str] = ()) -> tuple[str, dict | str]:
    """Run ``fn(*args)`` in a child process: ("ok", result) or (status, error)."""
    ctx = _context(preload)
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child_main, args=(sender, fn, args), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            process.kill()
            process.join()
            return "timeout", f"no result after {timeout:g} s; the trial was killed"
        try:
            message = receiver.recv()
        except EOFError:
            process.join()
            code = process.exitcode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            return "crashed", f"the trial's process died ({how}) without a result"
        process.join()
    finally:
        if process.is_alive():
            process.kill()
            process.join()
        receiver.close()
    if message[0] == "ok":
        return "ok", message[1]
    return "error", message[1]


def run_inline(fn: Callable[..., dict], args: tuple) -> tuple[str, dict | str]:
    try:
        result = fn(*args)
    except Exception as exc:
        return "error", "".join(traceback.format_exception_only(type(exc), exc)).strip()
    result["peak_rss_mb"] = peak_rss_mb()
    return "ok", result


@dataclasses.dataclass
class RunOptions:
    threads: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    timeout: float | None = None
    isolation: str = "process"
    data_context: DataContext = dataclasses.field(default_factory=DataContext)

    def __post_init__(self) -> None:
        if self.isolation not in ISOLATIONS:
            raise ValueError(f"isolation must be one of {ISOLATIONS}, "
                             f"got {self.isolation!r}")
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout}")


ProgressFn = Callable[[str, int, int, Trial, dict | None], None]


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


def run_trials(catalog: Catalog, trials: list[Trial], store: ResultStore,
               options: RunOptions | None = None,
               progress: ProgressFn | None = None) -> list[dict[str, Any]]:
    """Run (or skip, if already finished) each trial; return this run's rows."""
    options = options or RunOptions()
    specs = {t.algorithm: catalog.algorithm(t.algorithm) for t in trials}
    for trial in trials:
        check_params(specs[trial.algorithm], trial.fixed_params)
    datasets: dict[str, tuple[Any, Dataset]] = {}
    for name in dict.fromkeys(t.dataset for t in trials):  # load all before running
        dataset_spec = catalog.dataset(name)
        datasets[name] = (dataset_spec, dataset_spec.load(options.data_context))

    finished = store.finished()
    run_id = uuid.uuid4().hex[:12]
    store.start_run(provenance.run_record(run_id, utc_now()))
    rows = []
    for index, trial in enumerate(trials, 1):
        spec = specs[trial.algorithm]
        dataset_spec, data = datasets[trial.dataset]
        split = make_split(trial.protocol, dataset_spec, data, trial.seed)
        plugin = catalog.algorithms.plugin_of(spec.name)
        plugin_label = f"{plugin.distribution} {plugin.version}"
        grid = search_grid(spec, len(split.y_train), data.n_features,
                           trial.fixed_params)
        key = trial_key(trial, grid, plugin_label)
        if key in finished:
            rows.append(finished[key])
            if progress:
                progress("skip", index, len(trials), trial, finished[key])
            continue
        if progress:
            progress("start", index, len(trials), trial, None)
        row: dict[str, Any] = {
            "trial_key": key,
            "algorithm": spec.name,
            "family": spec.family,
            "dataset": trial.dataset,
            "protocol": str(trial.protocol),
            "seed": trial.seed,
            "subset_hash": split.indices_hash,
            "n_train": len(split.y_train),
            "n_test": len(split.y_test),
            "search_space": json.dumps(grid, sort_keys=True, default=repr),
            "plugin": plugin_label,
            "benchbase_version": benchbase.__version__,
            "started_at": utc_now(),
            "run_id": run_id,
            "error": "",
        }
        args = (spec, split, trial.seed, trial.fixed_params, grid, options.threads)
        if options.isolation == "process":
            preload = {spec.factory.__module__ for spec in specs.values()}
            status, outcome = run_isolated(evaluate, args, options.timeout, sorted(preload))
        else:
            status, outcome = run_inline(evaluate, args)
        row["status"] = status
        arrays = None
        if status == "ok":
            arrays = outcome.pop("artifacts")
            row.update(outcome)
        else:
            row["error"] = outcome
        store.append(row, arrays)
        rows.append(row)
        if progress:
            progress("done", index, len(trials), trial, row)
    return rows
