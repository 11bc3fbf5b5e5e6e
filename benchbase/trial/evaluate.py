"""What runs inside a trial's process: select on validation data, refit, test once, timed.

Inside a trial the harness:

1. carves a stratified validation split from the training part,
2. fits the points of the algorithm's search space on the rest and scores them
   on the validation split (the first best point wins ties): every point, or
   for large training sets by successive halving (``benchbase.trial.selection``),
3. refits the chosen parameters on the whole training part (timed),
4. predicts the test data once (timed),

and returns one ``TrialResult``. Planning, executing and storing trials happen
elsewhere (``benchbase.plan``, ``benchbase.execution``, ``benchbase.results``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.model_selection import ParameterGrid

from benchbase.results import artifacts, provenance
from benchbase.results.record import (
    Accuracies,
    SelectionSummary,
    Timings,
    TrialResult,
    dumps,
)
from benchbase.specs import AlgorithmSpec
from benchbase.timing import blas_threads, peak_rss_mb, timed
from benchbase.trial import selection
from benchbase.trial.estimator import make_estimator
from benchbase.trial.inputs import Inputs
from benchbase.trial.scoring import check_predictions, score_from, validation_scorer
from benchbase.trial.splits import Split, validation_split
from benchbase.trial.threads import limited_threads


def evaluate(spec: AlgorithmSpec, split: Split, seed: int,
             fixed_params: Mapping[str, Any], grid: Mapping[str, list],
             threads: int, rule: selection.SelectionRule) -> TrialResult:
    """Model selection (by ``rule``), final fit and test of one trial."""
    with limited_threads(threads):
        candidates = list(ParameterGrid(dict(grid))) if grid else [{}]
        best, chosen = candidates[0], None
        with timed() as selecting:
            if len(candidates) > 1:
                X_fit, X_val, y_fit, y_val = validation_split(
                    split.X_train, split.y_train, seed)
                score = validation_scorer(spec, X_fit, y_fit, X_val, y_val, grid,
                                          fixed_params, seed)
                chosen = selection.select(candidates, y_fit, score, rule, seed)
                best = chosen.best

        params = {**fixed_params, **best}
        model = make_estimator(spec, params, seed)
        classes = np.unique(split.y_train)
        # The harness scores with its own labels; the plugin gets read-only arrays.
        y_train, y_test = split.y_train.copy(), split.y_test.copy()
        inputs = Inputs(f"algorithm {spec.name!r}", X_train=split.X_train,
                        y_train=split.y_train, X_test=split.X_test, y_test=split.y_test)
        # Checked after the timing stops: the check is the harness's time, not the fit's.
        with inputs.call("fit()", "X_train", "y_train"), timed() as fit:
            model.fit(inputs["X_train"], inputs["y_train"])
        with inputs.call("predict()", "X_test"), timed() as predict:
            y_pred = model.predict(inputs["X_test"])
        y_pred = check_predictions(spec, y_pred, len(y_test), classes)
        with inputs.call("predict()", "X_train"):
            train = score_from(spec, model.predict(inputs["X_train"]), y_train, classes,
                               "predict()")
        with inputs.call("trial_artifacts()", "X_test", "y_test"):
            arrays = trial_artifacts(spec, model, inputs["X_test"], inputs["y_test"],
                                     y_test, y_pred, split.image_shape, chosen)
        return TrialResult(
            params=params,
            fit_info=getattr(model, "fit_info_", {}),
            accuracy=Accuracies(
                train=train.accuracy,
                test=float(np.mean(y_pred == y_test)),
                validation=chosen.best_score if chosen else None),
            timings=Timings(
                select_seconds=selecting.wall_seconds,
                select_other_cpus=selecting.other_cpus,
                fit_seconds=fit.wall_seconds,
                fit_cpu_seconds=fit.cpu_seconds,
                fit_other_cpus=fit.other_cpus,
                predict_seconds=predict.wall_seconds,
                predict_cpu_seconds=predict.cpu_seconds),
            selection=SelectionSummary(
                strategy=chosen.strategy if chosen else "",
                rule=rule.identity() if chosen else {},
                n_candidates=len(candidates)),
            blas_threads=blas_threads(),
            artifacts=arrays,
            peak_rss_mb=peak_rss_mb(),
            # After the trial: its BLAS libraries are loaded by now.
            environment=provenance.environment(),
        )


def trial_artifacts(spec: AlgorithmSpec, model, X_test: np.ndarray, y_given: np.ndarray,
                    y_test: np.ndarray, y_pred: np.ndarray, image_shape: tuple[int, ...],
                    chosen: selection.Selection | None) -> dict[str, np.ndarray]:
    """The arrays kept with the trial (``benchbase.results.artifacts``): the
    harness's own (``y_test``, its copy of the labels), then the algorithm's
    ``trial_artifacts`` (given ``X_test`` and ``y_given``, read-only)."""
    candidates = chosen.candidates if chosen else []
    arrays = {
        "y_test": y_test,
        "y_pred": np.asarray(y_pred),
        "candidates": np.array([dumps(candidate) for candidate in candidates], dtype=str),
        "val_scores": np.asarray(chosen.scores if chosen else [], dtype=np.float64),
        "val_samples": np.asarray(chosen.samples if chosen else [], dtype=np.int64),
        "val_history": np.asarray(chosen.history if chosen else [],
                                  dtype=np.float64).reshape(-1, 3),
        "image_shape": np.asarray(image_shape, dtype=np.int64),
    }
    if spec.trial_artifacts is not None:
        owner = f"algorithm {spec.name!r}: trial_artifacts()"
        extra = artifacts.check_arrays(spec.trial_artifacts(model, X_test, y_given), owner)
        shadowed = sorted(artifacts.CORE_NAMES & set(extra))
        if shadowed:
            raise ValueError(f"{owner} returned {shadowed}, names the harness uses")
        arrays.update(extra)
    return arrays
