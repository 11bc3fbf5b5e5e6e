"""Scoring inside a trial: predictions checked against the data, validation
scores of candidates (from an algorithm's grid scorer or by fitting each).

Accuracies are computed here, from predictions checked against the data
(``check_predictions``): never from a plugin's own ``score``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.model_selection import ParameterGrid

from benchbase.results.record import dumps
from benchbase.specs import AlgorithmSpec
from benchbase.trial import selection
from benchbase.trial.estimator import make_estimator
from benchbase.trial.inputs import Inputs


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


def score_from(spec: AlgorithmSpec, value: Any, y: np.ndarray, classes: np.ndarray,
               method: str = "score_grid()") -> selection.Score:
    """A ``Score`` from an accuracy, or from predicted labels (checked like
    ``predict()``'s), which also say which examples of ``y`` were right."""
    if np.ndim(value) == 0:
        return selection.Score(float(value))
    correct = check_predictions(spec, value, len(y), classes, method) == y
    return selection.Score(float(np.mean(correct)), correct)


def validate_candidates(spec: AlgorithmSpec, X_fit, y_fit, X_val, y_val,
                        grid: Mapping[str, list], candidates: list[dict],
                        fixed_params: Mapping[str, Any], seed: int) -> list[selection.Score]:
    """The validation ``Score`` of every candidate, in ``candidates`` order:
    from the algorithm's ``score_grid`` where it scores this grid, else by
    fitting each candidate. The plugin gets the arrays read-only
    (``benchbase.trial.inputs``); scores come from a copy of ``y_val`` it never sees."""
    classes = np.unique(y_fit)
    labels = np.array(y_val, copy=True)
    inputs = Inputs(f"algorithm {spec.name!r}", X_fit=X_fit, y_fit=y_fit, X_val=X_val,
                    y_val=y_val)
    if spec.score_grid is not None:
        with inputs.call("score_grid()", "X_fit", "y_fit", "X_val", "y_val"):
            scored = spec.score_grid(
                X_fit=inputs["X_fit"], y_fit=inputs["y_fit"], X_val=inputs["X_val"],
                y_val=inputs["y_val"], grid=dict(grid),
                fixed_params={**spec.defaults, **fixed_params},
                random_state=seed if spec.randomized else None)
        if scored is not None:
            by_key = {dumps(candidate): value for candidate, value in scored}
            wanted = [dumps(candidate) for candidate in candidates]
            if len(scored) != len(candidates) or set(by_key) != set(wanted):
                raise RuntimeError(
                    f"algorithm {spec.name!r}: its score_grid() did not score each "
                    "grid point exactly once"
                )
            return [score_from(spec, by_key[key], labels, classes) for key in wanted]
    scores = []
    for candidate in candidates:
        model = make_estimator(spec, {**fixed_params, **candidate}, seed)
        with inputs.call("fit()", "X_fit", "y_fit"):
            model.fit(inputs["X_fit"], inputs["y_fit"])
        with inputs.call("predict()", "X_val"):
            predicted = model.predict(inputs["X_val"])
        scores.append(score_from(spec, predicted, labels, classes, "predict()"))
    return scores


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
            by_key.update(zip(map(dumps, members), scores, strict=True))
        return [by_key[dumps(candidate)] for candidate in candidates]

    return score
