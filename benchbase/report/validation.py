"""Validation-score maps: every candidate's validation accuracy over the
searched grid, with the point each seed chose.

One searched parameter: a line per seed; two: a heatmap of the mean over
seeds; more: a max-projection onto the two parameters with the most values
(each cell is the best score over the other parameters), so the picture
stays one heatmap and says which parameters it folded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from benchbase.report.document import Block, Image, Notice, Paragraph, make_slug
from benchbase.report.figures import svg_text, validation_map_figure
from benchbase.report.reading import ArtifactLoader
from benchbase.report.tables import searched_params


def level(value: Any) -> str:
    """A parameter value as the maps label it."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def scores_frame(rows: pd.DataFrame, loader: ArtifactLoader) -> tuple[pd.DataFrame,
                                                                        pd.DataFrame]:
    """(every candidate of every seed with its score %, each seed's choice),
    parameters as text columns; empty when nothing was searched or stored."""
    scores, chosen = [], []
    arrays = loader.arrays(rows)
    for row in rows.sort_values("seed").to_dict("records"):
        found = arrays.get(row["trial_key"])
        if found is None or len(found["val_scores"]) < 2:
            continue
        for candidate, score, n_rows in zip(found["candidates"], found["val_scores"],
                                            found["val_samples"], strict=True):
            params = json.loads(str(candidate))
            scores.append({"seed": row["seed"], **{k: level(v) for k, v in params.items()},
                           "score": 100 * float(score), "rows": int(n_rows)})
        choice = searched_params(row["params"], row["search_space"])
        chosen.append({"seed": row["seed"], **{k: level(v) for k, v in choice.items()}})
    return pd.DataFrame(scores), pd.DataFrame(chosen)


def _project(scores: pd.DataFrame, chosen: pd.DataFrame) -> tuple[pd.DataFrame, list[str],
                                                                  list[str]]:
    """Keep at most two searched parameters (the two with the most values),
    maximising the score over the others per seed."""
    searched = [name for name in scores.columns if name not in ("seed", "score", "rows")
                and scores[name].nunique() > 1]
    if len(searched) <= 2:
        return scores, searched, []
    kept = sorted(searched, key=lambda name: (-scores[name].nunique(), name))[:2]
    kept = [name for name in searched if name in kept]  # grid order
    folded = [name for name in searched if name not in kept]
    projected = scores.groupby(["seed", *kept], sort=False, as_index=False)["score"].max()
    return projected, kept, folded


def section(ok: pd.DataFrame, order: Sequence[str], loader: ArtifactLoader, slug: str,
            where: str) -> list[Block]:
    blocks: list[Block] = []
    for algorithm in order:
        rows = ok[ok["algorithm"] == algorithm]
        scores, chosen = scores_frame(rows, loader)
        if scores.empty:
            continue
        rungs = sorted(set(scores["rows"]))
        scores, params, folded = _project(scores.drop(columns="rows"), chosen)
        if not params:
            continue
        title = f"{algorithm}, {where}"
        caption = (f"Validation accuracy over {algorithm}'s searched grid, {where}; "
                   "the marks are each seed's choice.")
        if folded:
            caption += (f" Max-projection: each cell is the best score over "
                        f"{', '.join(folded)}.")
        if len(rungs) > 1:
            caption += (" Chosen by successive halving: each candidate's score is from "
                        f"the largest rung it reached ({rungs[0]:,} to {rungs[-1]:,} fit "
                        "rows), so candidates dropped early were scored on fewer rows "
                        "than the survivors.")
        blocks.append(Image(make_slug(slug, "validation", algorithm), caption,
                            svg_text(validation_map_figure(scores, chosen, params, title))))
    if not blocks:
        missing = loader.explain(ok)
        return [Notice(f"No validation-score maps: {missing}.")] if missing else [
            Paragraph("No algorithm searched a grid here: no validation-score maps.")]
    return [Paragraph("Every candidate's validation accuracy (the selection as it ran, "
                      "before the test data were touched), mean over seeds."), *blocks]
