"""The reconstruction experiment in every report (paper §3.3.1, Figs. 3.5, 3.6).

For every algorithm whose trials stored reconstruction arrays
(``benchbase_ae.artifacts``): its layer-1 filters as image tiles side by
side, the same fixed test images reconstructed by each model with their
reconstruction error, and the error over the whole test set. Contributed
through ``benchbase_report_sections``, so the core names no algorithm.
Plotting libraries are imported only when a report is drawn.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

import benchbase

#: The arrays that mark a trial as one that reconstructs.
NEEDED = ("filters", "recon_index", "recon_input", "recon_output", "recon_kl",
          "recon_error_kl", "recon_error_mse", "image_shape", "y_test")


def _reconstructing(context) -> dict[str, dict[int, dict[str, np.ndarray]]]:
    """algorithm -> seed -> arrays, for trials that stored every array needed."""
    found: dict[str, dict[int, dict[str, np.ndarray]]] = {}
    arrays = context.artifacts.arrays(context.ok)
    for row in context.ok.to_dict("records"):
        trial = arrays.get(row["trial_key"])
        if trial is not None and all(name in trial for name in NEEDED):
            found.setdefault(row["algorithm"], {})[int(row["seed"])] = trial
    return {name: found[name] for name in context.order if name in found}


def _shown_seed(trials: dict[str, dict[int, dict[str, np.ndarray]]]) -> int | None:
    """The lowest seed every reconstructing algorithm has."""
    common = set.intersection(*(set(seeds) for seeds in trials.values()))
    return min(common) if common else None


def _filters_figure(trials: dict[str, dict[str, np.ndarray]]):
    """One square-ish mosaic of tiles per algorithm, side by side."""
    from benchbase.report.figures import figure_style, fitted_title, new_figure, tile_images

    mosaics = {name: tile_images(arrays["filters"], arrays["image_shape"],
                                 math.ceil(math.sqrt(len(arrays["filters"]))),
                                 normalize=True)
               for name, arrays in trials.items()}
    panel = 2.3  # inches per algorithm
    aspect = max(mosaic.shape[0] / mosaic.shape[1] for mosaic in mosaics.values())
    with figure_style(grid=False):
        figure, axes = new_figure(panel * len(trials) + 0.4, panel * aspect + 0.5,
                                  ncols=len(trials))
        for ax, (name, mosaic) in zip(axes[0], mosaics.items(), strict=True):
            ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1)
            ax.set(xticks=[], yticks=[])
            fitted_title(ax, f"{name}: units 1–{len(trials[name]['filters'])}")
    return figure


def _reconstructions_figure(trials: dict[str, dict[str, np.ndarray]]):
    from benchbase.report.figures import figure_style, new_figure, tile_images

    first = next(iter(trials.values()))
    shape, n_images = first["image_shape"], len(first["recon_index"])
    classes = first["y_test"][first["recon_index"]]
    rows = [("test image", first["recon_input"], [f"class {c}" for c in classes])]
    rows += [(name, arrays["recon_output"], [f"{kl:.1f}" for kl in arrays["recon_kl"]])
             for name, arrays in trials.items()]
    width = 1.2 + 0.62 * n_images
    with figure_style(grid=False):
        figure, axes = new_figure(width, 0.95 * len(rows) + 0.3, nrows=len(rows))
        step = int(shape[1]) + 1
        for ax, (label, images, ticks) in zip(axes[:, 0], rows, strict=True):
            ax.imshow(tile_images(images, shape, n_images), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([step * i + (step - 2) / 2 for i in range(n_images)],
                          labels=ticks, fontsize=7)
            ax.tick_params(length=0, pad=2)
            ax.set_yticks([])
            ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    return figure


def _error_table(trials: dict[str, dict[int, dict[str, np.ndarray]]]):
    from benchbase.report import Table

    records = []
    for name, seeds in trials.items():
        kl = np.array([float(arrays["recon_error_kl"]) for arrays in seeds.values()])
        mse = np.array([float(arrays["recon_error_mse"]) for arrays in seeds.values()])
        records.append({
            "algorithm": name, "seeds": str(len(seeds)),
            "KL nats per image": _mean_std(kl, ".2f"),
            "squared error per pixel": _mean_std(mse, ".5f"),
        })
    return Table(pd.DataFrame(records), right=("seeds", "KL nats per image",
                                               "squared error per pixel"))


def _mean_std(values: np.ndarray, fmt: str) -> str:
    if len(values) < 2:
        return format(values.mean(), fmt)
    return f"{format(values.mean(), fmt)} ± {format(values.std(ddof=1), fmt)}"


def render(context) -> list:
    """Filters (Fig. 3.5), reconstructions (Fig. 3.6) and the test error."""
    from benchbase.report import Image, Notice, Paragraph
    from benchbase.report.figures import svg_text

    trials = _reconstructing(context)
    if not trials:
        return []
    blocks: list = []
    seed = _shown_seed(trials)
    if seed is None:
        shown = {name: seeds[min(seeds)] for name, seeds in trials.items()}
        blocks.append(Notice("No seed has a trial of every autoencoder: each shows its "
                             "own lowest seed."))
        which = "each algorithm's lowest seed"
    else:
        shown = {name: seeds[seed] for name, seeds in trials.items()}
        which = f"seed {seed}"
    indices = {name: tuple(arrays["recon_index"]) for name, arrays in shown.items()}
    n_filters = len(next(iter(shown.values()))["filters"])
    blocks += [
        Paragraph(f"The paper's reconstruction experiment, {which}. Layer-1 filters: the "
                  f"weights of hidden units 1–{n_filters} (a fixed sample, not a "
                  "selection) drawn as images, each stretched to its own range "
                  "(black: its most negative weight, white: its most positive)."),
        Image("filters", f"Layer-1 filters, {context.where} (paper Fig. 3.5)",
              svg_text(_filters_figure(shown))),
    ]
    if len(set(indices.values())) == 1:
        blocks += [
            Paragraph("The first test image of each class and its reconstruction by "
                      "each model (pixels 0 black to 1 white); under each "
                      "reconstruction, its error as the training loss measures it: "
                      "Σ over pixels of KL(x ‖ z), in nats."),
            Image("reconstructions", f"Test images and their reconstructions, "
                  f"{context.where} (paper Fig. 3.6)",
                  svg_text(_reconstructions_figure(shown))),
        ]
    else:
        blocks.append(Notice("The models reconstructed different test images (their "
                             "test sets differ), so no side-by-side picture."))
    blocks += [
        Paragraph("Reconstruction error over the whole test set, mean ± std over seeds: "
                  "KL per image (the training loss, eq. 5) and squared error per pixel."),
        _error_table(trials),
    ]
    return blocks


@benchbase.hookimpl
def benchbase_report_sections():
    return [benchbase.ReportSection(
        name="reconstruction",
        title="Layer-1 filters and reconstructions",
        render=render,
    )]
