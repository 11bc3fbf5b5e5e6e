"""Trials: select on validation data, refit, test once, timed.

A trial is algorithm × dataset × protocol × seed (× fixed parameters). Inside a
trial the harness:

1. carves a stratified validation split from the training part,
2. fits the points of the algorithm's search space on the rest and scores them
   on the validation split (the first best point wins ties): every point, or
   for large training sets by successive halving (``benchbase.selection``),
3. refits the chosen parameters on the whole training part (timed),
4. predicts the test data once (timed).

Accuracies are computed here, from predictions checked against the data
(``check_predictions``): never from a plugin's own ``score``.

This module is what runs inside a trial's process; planning, executing and
storing trials is ``benchbase.orchestrator``'s, isolation
``benchbase.isolation``'s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import ParameterGrid

from benchbase import artifacts, provenance, selection
from benchbase.specs import AlgorithmSpec
from benchbase.splits import Protocol, Split, validation_split
from benchbase.timing import blas_threads, timed


@dataclasses.dataclass(frozen=True)
class Trial:
    algorithm: str
    dataset: str
    protocol: Protocol
    seed: int
    fixed_params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: Names one of a suite's swept settings ("keep_prob=0.5, mask=batch"); the
    #: key already tells variants apart (their fixed parameters differ).
    variant: str = ""

    def label(self) -> str:
        name = f"{self.algorithm}[{self.variant}]" if self.variant else self.algorithm
        return f"{name} on {self.dataset} ({self.protocol}, seed {self.seed})"


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _dumps(obj: Mapping[str, Any]) -> str:
    return json.dumps({k: _jsonable(v) for k, v in obj.items()}, sort_keys=True,
                      default=repr)


def trial_key(trial: Trial, grid: Mapping[str, list], plugin: str,
              strategy: str = "grid", shared_fit_params: Sequence[str] = ()) -> str:
    identity = {
        "algorithm": trial.algorithm,
        "dataset": trial.dataset,
        "protocol": str(trial.protocol),
        "seed": trial.seed,
        "fixed_params": _dumps(trial.fixed_params),
        "search_space": json.dumps(grid, sort_keys=True, default=repr),
        "plugin": plugin,
    }
    if strategy != "grid":  # keys of full-grid trials stay what they always were
        identity["selection"] = strategy
        if shared_fit_params:  # halving by fits chooses differently
            identity["shared_fit_params"] = sorted(shared_fit_params)
            # and so does keeping the leader's ties at its last decision (older
            # rows lack this field: a resumed run does not take them for its own)
            identity["keeps_ties"] = f"mcnemar {selection.KEEP_ALPHA}, within the grid's rows"
            # and so does taking only each kept fit's best candidates up
            identity["within_fits"] = f"best 1/{selection.FACTOR}"
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def make_estimator(spec: AlgorithmSpec, params: Mapping[str, Any], seed: int):
    kwargs = {**spec.defaults, **params}
    if spec.randomized:
        kwargs.setdefault("random_state", seed)
    try:
        return spec.factory(**kwargs)
    except Exception as exc:
        raise TypeError(
            f"algorithm {spec.name!r}: its factory cannot be called with the harness's "
            f"arguments {sorted(kwargs)} ({type(exc).__name__}: {exc})") from exc


def search_grid(spec: AlgorithmSpec, n_samples: int, n_features: int,
                fixed_params: Mapping[str, Any]) -> dict[str, list]:
    """The search space minus the parameters the user fixed."""
    grid = spec.grid(n_samples, n_features)
    return {k: v for k, v in grid.items() if k not in fixed_params}


def check_params(spec: AlgorithmSpec, params: Mapping[str, Any]) -> None:
    """Reject parameter names the estimator does not have (before any trial runs).

    An algorithm that cannot even be constructed is not refused here: each of
    its trials fails with that error and the run goes on.
    """
    try:
        known = set(make_estimator(spec, {}, 0).get_params())
    except Exception:
        return
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(
            f"algorithm {spec.name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters: {', '.join(sorted(known))}"
        )


def validate_candidates(spec: AlgorithmSpec, X_fit, y_fit, X_val, y_val,
                        grid: Mapping[str, list], candidates: list[dict],
                        fixed_params: Mapping[str, Any], seed: int) -> list[selection.Score]:
    """The validation ``Score`` of every candidate, in ``candidates`` order:
    from the algorithm's ``score_grid`` where it scores this grid, else by
    fitting each candidate."""
    classes = np.unique(y_fit)
    if spec.score_grid is not None:
        scored = spec.score_grid(
            X_fit=X_fit, y_fit=y_fit, X_val=X_val, y_val=y_val, grid=dict(grid),
            fixed_params={**spec.defaults, **fixed_params},
            random_state=seed if spec.randomized else None)
        if scored is not None:
            by_key = {_dumps(candidate): value for candidate, value in scored}
            wanted = [_dumps(candidate) for candidate in candidates]
            if len(scored) != len(candidates) or set(by_key) != set(wanted):
                raise RuntimeError(
                    f"algorithm {spec.name!r}: its score_grid() did not score each "
                    "grid point exactly once"
                )
            return [_score_from(spec, by_key[key], y_val, classes) for key in wanted]
    scores = []
    for candidate in candidates:
        model = make_estimator(spec, {**fixed_params, **candidate}, seed)
        model.fit(X_fit, y_fit)
        scores.append(_score_from(spec, model.predict(X_val), y_val, classes,
                                        "predict()"))
    return scores


def score_candidates(spec: AlgorithmSpec, X_fit, y_fit, X_val, y_val,
                     grid: Mapping[str, list], candidates: list[dict],
                     fixed_params: Mapping[str, Any], seed: int) -> list[float]:
    """Validation accuracy of every candidate, in ``candidates`` order."""
    return [score.accuracy for score in validate_candidates(
        spec, X_fit, y_fit, X_val, y_val, grid, candidates, fixed_params, seed)]


def _score_from(spec: AlgorithmSpec, value: Any, y: np.ndarray, classes: np.ndarray,
                method: str = "score_grid()") -> selection.Score:
    """A ``Score`` from an accuracy, or from predicted labels (checked like
    ``predict()``'s), which also say which examples of ``y`` were right."""
    if np.ndim(value) == 0:
        return selection.Score(float(value))
    correct = check_predictions(spec, value, len(y), classes, method) == y
    return selection.Score(float(np.mean(correct)), correct)


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "NUMBA_NUM_THREADS")


@contextlib.contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """Cap BLAS/OpenMP, torch and Numba threads for the block, then restore them.

    Libraries imported inside the block read the environment variables.
    Numba goes first: starting its thread pool resets OpenMP's thread count
    to Numba's pool size, which torch then reports as its own (this is how
    DDAE used two cores under ``--threads 1``). In a trial's own process
    this is exact; ``inline``, a Numba imported earlier keeps its pool size
    (its threads are still capped).
    """
    from threadpoolctl import threadpool_limits

    saved_env = {var: os.environ.get(var) for var in _THREAD_VARIABLES}
    numba = sys.modules.get("numba")
    saved_numba = numba.get_num_threads() if numba is not None else None
    torch = sys.modules.get("torch")
    saved_torch = torch.get_num_threads() if torch is not None else None
    for var in _THREAD_VARIABLES:
        os.environ[var] = str(threads)  # libraries loaded later read these
    if numba is not None:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
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
        if numba is not None:
            numba.set_num_threads(saved_numba)
        if torch is not None:
            torch.set_num_threads(saved_torch)


def _label_kind(dtype: np.dtype) -> str:
    return {"i": "integer", "u": "integer", "U": "text", "S": "text"}.get(dtype.kind,
                                                                         str(dtype))


def check_predictions(spec: AlgorithmSpec, y_pred: Any, n_samples: int,
                      classes: np.ndarray, method: str = "predict()") -> np.ndarray:
    """Predictions as an array, refused unless they are one label of ``classes``
    per sample: a column vector would broadcast against the labels and give a
    wrong accuracy instead of an error."""
    owner = f"algorithm {spec.name!r}: {method}"
    y_pred = np.asarray(y_pred)
    if y_pred.shape != (n_samples,):
        raise ValueError(f"{owner} returned an array of shape {y_pred.shape} for "
                         f"{n_samples} samples; expected shape ({n_samples},), one label "
                         "per sample")
    if _label_kind(y_pred.dtype) != _label_kind(classes.dtype):
        raise ValueError(f"{owner} returned {y_pred.dtype} values; expected labels of "
                         f"the training data's kind ({classes.dtype})")
    unknown = np.setdiff1d(y_pred, classes)
    if unknown.size:
        shown = ", ".join(map(str, unknown[:5])) + (", ..." if unknown.size > 5 else "")
        raise ValueError(f"{owner} returned labels that are not classes of the training "
                         f"data: {shown} (classes: {', '.join(map(str, classes))})")
    return y_pred


def accuracy(spec: AlgorithmSpec, model, X: np.ndarray, y: np.ndarray,
             classes: np.ndarray) -> float:
    return _score_from(spec, model.predict(X), y, classes, "predict()").accuracy


def validation_scorer(spec: AlgorithmSpec, X_fit, y_fit, X_val, y_val,
                      grid: Mapping[str, list], fixed_params: Mapping[str, Any],
                      seed: int) -> selection.Scorer:
    """``score(rows, candidates)`` for ``selection.select``: fits on the fit
    split's ``rows`` (all when None), scores on the whole validation split.

    The whole grid goes to the algorithm's ``score_grid`` as one grid; a
    halving rung's survivors as the fewest grids that hold exactly them.
    """
    everything = list(ParameterGrid(dict(grid)))

    def score(rows, candidates):
        X, y = (X_fit, y_fit) if rows is None else (X_fit[rows], y_fit[rows])
        grids = [dict(grid)] if candidates == everything else selection.covering_grids(
            candidates)
        by_key = {}
        for part in grids:
            members = list(ParameterGrid(part))
            scores = validate_candidates(spec, X, y, X_val, y_val, part, members,
                                         fixed_params, seed)
            by_key.update(zip(map(_dumps, members), scores, strict=True))
        return [by_key[_dumps(candidate)] for candidate in candidates]

    return score


def evaluate(spec: AlgorithmSpec, split: Split, seed: int,
             fixed_params: Mapping[str, Any], grid: Mapping[str, list],
             threads: int, strategy: str = "grid") -> dict[str, Any]:
    """Model selection (by ``strategy``, see ``benchbase.selection``), final fit
    and test of one trial; returns result fields."""
    with limited_threads(threads):
        metrics: dict[str, Any] = {"blas_threads": blas_threads(), "threads": threads,
                                   "selection": ""}
        candidates = list(ParameterGrid(dict(grid))) if grid else [{}]
        best, chosen = candidates[0], None
        with timed() as selecting:
            if len(candidates) > 1:
                X_fit, X_val, y_fit, y_val = validation_split(
                    split.X_train, split.y_train, seed)
                score = validation_scorer(spec, X_fit, y_fit, X_val, y_val, grid,
                                          fixed_params, seed)
                chosen = selection.select(candidates, y_fit, score, strategy, seed,
                                          shared=spec.shared_fit_params)
                best = chosen.best
                metrics.update(val_accuracy=chosen.best_score, selection=chosen.strategy)
        metrics["select_seconds"] = selecting.wall_seconds
        metrics["select_other_cpus"] = selecting.other_cpus
        metrics["n_candidates"] = len(candidates)

        params = {**fixed_params, **best}
        model = make_estimator(spec, params, seed)
        classes = np.unique(split.y_train)
        with timed() as fit:
            model.fit(split.X_train, split.y_train)
        with timed() as predict:
            y_pred = model.predict(split.X_test)
        y_pred = check_predictions(spec, y_pred, len(split.y_test), classes)
        metrics.update(
            params=_dumps(params),
            fit_info=_dumps(getattr(model, "fit_info_", {})),
            fit_seconds=fit.wall_seconds,
            fit_cpu_seconds=fit.cpu_seconds,
            fit_other_cpus=fit.other_cpus,
            predict_seconds=predict.wall_seconds,
            predict_cpu_seconds=predict.cpu_seconds,
            test_accuracy=float(np.mean(y_pred == split.y_test)),
            train_accuracy=accuracy(spec, model, split.X_train, split.y_train, classes),
            artifacts=trial_artifacts(spec, model, split, y_pred, chosen),
        )
        environment = provenance.environment()  # after the trial: its BLAS is loaded
        metrics.update(host=environment["host"], environment=_dumps(environment))
        return metrics


def trial_artifacts(spec: AlgorithmSpec, model, split: Split, y_pred: np.ndarray,
                    chosen: selection.Selection | None) -> dict[str, np.ndarray]:
    """The arrays kept with the trial (``benchbase.artifacts``): the harness's
    own, then the algorithm's ``trial_artifacts``."""
    candidates = chosen.candidates if chosen else []
    arrays = {
        "y_test": split.y_test,
        "y_pred": np.asarray(y_pred),
        "candidates": np.array([_dumps(candidate) for candidate in candidates], dtype=str),
        "val_scores": np.asarray(chosen.scores if chosen else [], dtype=np.float64),
        "val_samples": np.asarray(chosen.samples if chosen else [], dtype=np.int64),
        "val_history": np.asarray(chosen.history if chosen else [],
                                  dtype=np.float64).reshape(-1, 3),
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
