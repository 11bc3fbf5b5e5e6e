"""What the stored test predictions show: accuracy per class, confusions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from benchbase.report.document import Block, Image, Notice, Paragraph
from benchbase.report.figures import confusion_figure, per_class_figure, svg_text
from benchbase.report.reading import ArtifactLoader


def pooled_predictions(ok: pd.DataFrame, order: Sequence[str], loader: ArtifactLoader
                       ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """algorithm -> (labels, predictions) of all its seeds, concatenated; only
    algorithms whose every ok trial has its artifacts (a partial pool would
    weigh seeds unevenly against the others)."""
    pooled = {}
    for algorithm in order:
        rows = ok[ok["algorithm"] == algorithm].sort_values("seed")
        arrays = loader.arrays(rows)
        if rows.empty or len(arrays) < len(rows):
            continue
        loaded = [arrays[key] for key in rows["trial_key"]]
        pooled[algorithm] = (np.concatenate([a["y_test"] for a in loaded]),
                             np.concatenate([a["y_pred"] for a in loaded]))
    return pooled


def per_class_accuracy(pooled: dict[str, tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """algorithms × classes: % of each class's test images predicted correctly."""
    classes = np.unique(np.concatenate([y for y, _ in pooled.values()]))
    return pd.DataFrame(
        [[100 * float(np.mean(y_pred[y == label] == label)) for label in classes]
         for y, y_pred in pooled.values()],
        index=list(pooled), columns=[str(label) for label in classes])


def confusion(y: np.ndarray, y_pred: np.ndarray, classes: np.ndarray) -> pd.DataFrame:
    """Rows: true class, columns: predicted class; % of the true class's images."""
    index = {label: position for position, label in enumerate(classes)}
    counts = np.zeros((len(classes), len(classes)))
    np.add.at(counts, (np.vectorize(index.get)(y), np.vectorize(index.get)(y_pred)), 1)
    totals = counts.sum(axis=1, keepdims=True)
    labels = [str(label) for label in classes]
    return pd.DataFrame(100 * counts / np.where(totals > 0, totals, 1),
                        index=labels, columns=labels)


def section(ok: pd.DataFrame, order: Sequence[str], loader: ArtifactLoader, slug: str,
            where: str) -> list[Block]:
    pooled = pooled_predictions(ok, order, loader)
    if not pooled:
        return [Notice(f"No per-class view: it needs the trials' stored predictions. "
                       f"{loader.explain(ok)}.")]
    blocks: list[Block] = []
    left_out = [name for name in order if name not in pooled]
    if left_out:
        blocks.append(Notice(f"Left out (some trials lack stored predictions): "
                             f"{', '.join(left_out)}. {loader.explain(ok)}."))
    blocks.append(Image(f"{slug}-per-class", f"Test accuracy per class, every seed's "
                        f"predictions pooled, {where}",
                        svg_text(per_class_figure(per_class_accuracy(pooled)))))
    names = list(pooled)  # in the block's order: best mean first
    shown = [names[0]] if len(names) == 1 else [names[0], names[-1]]
    classes = np.unique(np.concatenate([np.concatenate(pair) for pair in pooled.values()]))
    panels = []
    for rank, name in zip(("best", "worst"), shown, strict=False):
        y, y_pred = pooled[name]
        panels.append((f"{rank}: {name} ({100 * np.mean(y == y_pred):.2f} %)",
                       confusion(y, y_pred, classes)))
    blocks += [
        Image(f"{slug}-confusion", f"Confusion matrices of the best and the worst "
              f"algorithm by mean test accuracy, every seed pooled, {where}",
              svg_text(confusion_figure(panels))),
        Paragraph("The confusion matrices of the best and the worst algorithm only: the "
                  "per-class figure already gives every algorithm's diagonal, and these "
                  "two show where the errors go at either end. Each row is one true "
                  "class (100 %); off the diagonal, the share of its images taken for "
                  "another class (the diagonal, correct, is printed in grey)."),
    ]
    return blocks
