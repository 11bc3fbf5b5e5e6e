"""The report's figures: seaborn's axes-level calls on matplotlib Figures.

No pyplot: each figure is a ``Figure`` on its own Agg canvas, so drawing
leaves the caller's backend and global state alone. ``svg_text`` renders
without a date and with a fixed hash salt: the same results give the same
bytes. ``figure_style``, ``new_figure``, ``svg_text`` and ``tile_images`` are
for plugins' sections too.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import math
import textwrap
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from unittest import mock

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import Bbox

# Fixed looks, and SVG without random ids (the default salt is a fresh UUID).
_RC = {"svg.hashsalt": "benchbase", "svg.fonttype": "path", "font.size": 9,
       "image.interpolation": "nearest"}


@contextmanager
def figure_style(grid: bool = True) -> Iterator[None]:
    """The report's look; draw every figure inside it (``grid=False`` for
    heatmaps and images, where grid lines would cross the cells)."""
    with sns.axes_style("whitegrid" if grid else "white"), matplotlib.rc_context(_RC):
        yield


def new_figure(width: float, height: float, nrows: int = 1, ncols: int = 1,
               layout: str = "constrained", **subplots) -> tuple[Figure, np.ndarray]:
    """A constrained-layout Figure (inches) and its axes as a 2-D array
    (``layout="compressed"`` for square cells: heatmaps with ``square=True``)."""
    figure = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(figure)
    return figure, figure.subplots(nrows, ncols, squeeze=False, **subplots)


class FigureLayoutWarning(UserWarning):
    """A figure's text overlaps other text or a legend, or leaves the canvas."""


#: Pixels two texts may share (anti-aliasing, touching boxes) before they collide.
_OVERLAP_TOLERANCE = 1.0


def _overlap(a: Bbox, b: Bbox) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > _OVERLAP_TOLERANCE
            and min(a.y1, b.y1) - max(a.y0, b.y0) > _OVERLAP_TOLERANCE)


def _label(text: Text) -> str:
    shown = " ".join(text.get_text().split())
    return repr(shown if len(shown) <= 40 else shown[:37] + "...")


def _laid_out(figure: Figure):
    """Draw ``figure`` in the report's style (its layout runs); its renderer,
    to measure texts with."""
    with matplotlib.rc_context(_RC):
        figure.canvas.draw()
    return figure.canvas.get_renderer()


def fitted_title(ax, text: str) -> None:
    """``text`` as ``ax``'s title, wrapped onto more lines where one line would
    be wider than the axes (a long variant's name would run into its
    neighbours or off the canvas)."""
    ax.set_title(text)
    renderer = _laid_out(ax.get_figure())
    wide, room = ax.title.get_window_extent(renderer).width, ax.get_window_extent(
        renderer).width
    if wide > room:
        ax.set_title(textwrap.fill(text, max(12, int(len(text) * room / wide)),
                                   break_on_hyphens=False))


def upright_if_crowded(ax) -> None:
    """Turn the x tick labels upright (90°) when, laid out flat, two overlap."""
    ax.tick_params(axis="x", rotation=0)
    renderer = _laid_out(ax.get_figure())
    boxes = [label.get_window_extent(renderer) for label in ax.get_xticklabels()
             if label.get_visible() and label.get_text()]
    if any(_overlap(a, b) for a, b in itertools.pairwise(boxes)):
        ax.tick_params(axis="x", rotation=90)


def _describe(figure: Figure) -> str:
    """A figure's title, or its first axes' labels: enough to find it."""
    for ax in figure.axes:
        if ax.get_title():
            return repr(ax.get_title())
    labelled = [ax for ax in figure.axes if ax.get_xlabel() or ax.get_ylabel()]
    if labelled:
        return f"with axes {labelled[0].get_xlabel()!r} × {labelled[0].get_ylabel()!r}"
    return "(untitled)"


def layout_problems(figure: Figure) -> list[str]:
    """Every drawn text that overlaps another text or a legend it is not part
    of, or that the canvas cuts off; [] when none does. Measured on the laid
    out figure with matplotlib's own text extents."""
    drawn: list[Text] = []
    draw = Text.draw

    def recording(text: Text, renderer) -> None:  # only what is really drawn
        if text.get_visible() and text.get_text().strip():
            drawn.append(text)
        draw(text, renderer)

    with mock.patch.object(Text, "draw", recording):
        renderer = _laid_out(figure)
    boxes = [(text, text.get_window_extent(renderer)) for text in dict.fromkeys(drawn)]
    canvas = figure.bbox
    problems = [f"{_label(text)} is cut off by the figure's edge" for text, box in boxes
                if box.x0 < canvas.x0 - _OVERLAP_TOLERANCE or box.y0 < canvas.y0 -
                _OVERLAP_TOLERANCE or box.x1 > canvas.x1 + _OVERLAP_TOLERANCE
                or box.y1 > canvas.y1 + _OVERLAP_TOLERANCE]
    problems += [f"{_label(a)} and {_label(b)} overlap"
                 for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
                 if _overlap(box_a, box_b)]
    legends = [*figure.legends, *(ax.get_legend() for ax in figure.axes if ax.get_legend())]
    for legend in legends:
        frame, own = legend.get_window_extent(renderer), {*legend.texts, legend.get_title()}
        problems += [f"{_label(text)} overlaps a legend" for text, box in boxes
                     if text not in own and _overlap(box, frame)]
    return problems


def svg_text(figure: Figure) -> str:
    """The figure as SVG, without a date: the same results give the same bytes.
    A figure whose texts collide or are cut off (``layout_problems``) still
    renders, with a ``FigureLayoutWarning`` (an error in benchbase's tests)."""
    problems = layout_problems(figure)
    if problems:
        warnings.warn(FigureLayoutWarning(
            f"figure {_describe(figure)}: {'; '.join(problems[:3])}"
            + (f" and {len(problems) - 3} more" if len(problems) > 3 else "")),
            stacklevel=2)
    buffer = io.StringIO()
    with matplotlib.rc_context(_RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def distinct_colours(names: Iterable[str]) -> dict[str, tuple]:
    """A colour-blind-safe colour per name (sorted), e.g. per machine."""
    names = sorted(set(names))
    return dict(zip(names, sns.color_palette("colorblind", len(names)), strict=True))


# Filled markers only: seaborn refuses to mix filled and line markers.
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "p", "h", "<", ">", "*")
#: Each family one hue; its algorithms are shades of it.
FAMILY_HUES = ("Blues", "Oranges", "Greens", "Purples", "Reds", "Greys")


@dataclasses.dataclass(frozen=True)
class Style:
    colour: tuple
    marker: str


def algorithm_styles(family_of: Mapping[str, str]) -> dict[str, Style]:
    """A distinct colour and marker per algorithm, the same in every figure of
    a report: a family's algorithms share its hue in different shades (so
    the families stay visible), and markers go by name (repeating after
    twelve)."""
    names = sorted(family_of)
    styles = {}
    for index, family in enumerate(sorted(set(family_of.values()))):
        members = [name for name in names if family_of[name] == family]
        # The two lightest shades are too pale on white.
        shades = sns.color_palette(FAMILY_HUES[index % len(FAMILY_HUES)], len(members) + 2)
        for name, shade in zip(members, shades[2:], strict=True):
            styles[name] = Style(tuple(shade), MARKERS[names.index(name) % len(MARKERS)])
    return styles


def _handle(label: str, marker: str = "", color: str | tuple = "black") -> Line2D:
    return Line2D([], [], linestyle="none", marker=marker, color=color, label=label)


def _algorithm_legend(figure: Figure, styles: Mapping[str, Style],
                      family_of: Mapping[str, str], names: Iterable[str],
                      extra: Sequence[Line2D] = ()) -> None:
    """The algorithms under their families, each with its colour and marker."""
    handles = []
    for family in sorted({family_of[name] for name in names}):
        handles.append(_handle(f"{family} family"))  # a sub-heading: no marker
        handles += [_handle(name, styles[name].marker, styles[name].colour)
                    for name in sorted(names) if family_of[name] == family]
    figure.legend(handles=[*handles, *extra], loc="outside right upper", frameon=False)


# ---------------------------------------------------------------- log axes


def _decimal(m: int, decade: int) -> float:
    """m·10^decade as the float nearest the decimal: limits and ticks built
    this way are equal to the last bit."""
    return float(f"{m}e{decade}")


def _nice(value: float, up: bool) -> float:
    """The nearest 1-2-5 number at or above (``up``) or below ``value`` > 0."""
    decade = math.floor(math.log10(value))
    steps = [_decimal(m, decade) for m in (1, 2, 5, 10)]
    return min(s for s in steps if s >= value) if up else max(s for s in steps if s <= value)


def _log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 ticks from ``low`` to ``high`` (themselves 1-2-5 numbers) within
    two decades, decades beyond: always both limits' decades or more, so never
    fewer than two labels. (Fixed rather than matplotlib's LogLocator, which
    swaps in linear ticks when a limit misses its own tick by one ulp.)"""
    span = math.log10(high / low)
    subs = (1, 2, 5) if span <= 2 + 1e-9 else (1,)
    # The decade at or below low for 1-2-5 ticks, the first one in view for decades.
    first = (math.floor(math.log10(low) + 1e-9) if len(subs) > 1
             else math.ceil(math.log10(low) - 1e-9))
    last = math.ceil(math.log10(high) - 1e-9)
    stride = max(1, math.ceil((last - first) / 8))  # at most nine decade labels
    ticks = [_decimal(m, d) for d in range(first, last + 1, stride) for m in subs]
    return [t for t in ticks if low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]


def log_axis(ax, values: Iterable[float], axis: str = "x") -> None:
    """Log scale with labels that never collide: 1-2-5 ticks within two
    decades, decades beyond, limits on labelled ticks, unlabelled minor ticks.

    (matplotlib labels minor ticks when data span less than a decade, and
    those labels overlap.)
    """
    positive = [v for v in values if v > 0 and np.isfinite(v)]
    if not positive:
        return
    low, high = _nice(min(positive) / 1.15, up=False), _nice(max(positive) * 1.15, up=True)
    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    (ax.set_xlim if axis == "x" else ax.set_ylim)(low, high)
    target.set_major_locator(FixedLocator(_log_ticks(low, high)))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_locator(LogLocator(base=10, subs="auto", numticks=100))
    target.set_minor_formatter(NullFormatter())


# ---------------------------------------------------------------- accuracy, time


def in_order(rows: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """Rows sorted by ``order`` of their algorithm, then by seed."""
    rank = {name: index for index, name in enumerate(order)}
    return rows.assign(_rank=rows["algorithm"].map(rank)).sort_values(
        ["_rank", "seed"], kind="stable").drop(columns="_rank")


def _seed_offsets(rows: pd.DataFrame) -> pd.Series:
    """Spread an algorithm's seeds across its row: deterministic, unlike jitter."""
    by_algorithm = rows.groupby("algorithm")["seed"]
    rank = by_algorithm.rank(method="first") - 1
    count = by_algorithm.transform("size")
    return (rank / (count - 1).clip(lower=1) - 0.5) * 0.4 * (count > 1)


def per_seed_figure(ok: pd.DataFrame, summary: pd.DataFrame, column: str, label: str,
                    styles: Mapping[str, Style], std: bool = False, log: bool = False,
                    scale: float = 1.0) -> Figure:
    """Each seed's ``column`` as a point in its algorithm's colour and marker;
    the summary's mean (± std with ``std``) as a black diamond. Algorithms in
    ``summary``'s order, top to bottom."""
    order = list(summary["algorithm"])
    position = {name: index for index, name in enumerate(order)}
    rows = in_order(ok[ok["algorithm"].isin(position)], order)
    values = rows[column] * scale
    offsets = rows["algorithm"].map(position) + _seed_offsets(rows)
    with figure_style():
        figure, axes = new_figure(6.4, 1.0 + 0.32 * len(order))
        ax = axes[0, 0]
        for name in order:
            mine = (rows["algorithm"] == name).to_numpy()
            ax.scatter(values[mine], offsets[mine], color=styles[name].colour,
                       marker=styles[name].marker, alpha=0.7, s=24, linewidths=0)
        ax.errorbar(summary[column] * scale, range(len(order)),
                    xerr=summary[f"{column}_std"] * scale if std else None,
                    fmt="D", color="black", markersize=4, capsize=3, linewidth=1)
        ax.set_yticks(range(len(order)), labels=order)
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.set_xlabel(label)
        if log:
            log_axis(ax, values)
        figure.legend(handles=[_handle("each seed", "o", "grey"),
                               _handle("mean ± std" if std else "mean", "D")],
                      loc="outside right upper", frameon=False)
    return figure


def cost_figure(summary: pd.DataFrame, styles: Mapping[str, Style]) -> Figure:
    """Mean test accuracy (± std) against mean fit seconds (log), one panel
    per dataset × protocol, a point per algorithm in its colour and marker.
    The legend lists the algorithms under their family."""
    sections = list(summary.groupby(["dataset", "protocol"], sort=True))
    family_of = dict(zip(summary["algorithm"], summary["family"], strict=False))
    with figure_style():
        figure, axes = new_figure(3.8 * len(sections) + 1.4, 3.4, ncols=len(sections))
        for ax, ((dataset, protocol), rows) in zip(axes[0], sections, strict=True):
            rows = rows.sort_values("algorithm")
            accuracy = rows["test_accuracy"] * 100
            ax.errorbar(rows["fit_seconds"], accuracy, yerr=rows["test_accuracy_std"] * 100,
                        fmt="none", ecolor="grey", elinewidth=0.8, capsize=2)
            for name, seconds, value in zip(rows["algorithm"], rows["fit_seconds"], accuracy,
                                            strict=True):
                ax.scatter([seconds], [value], color=styles[name].colour,
                           marker=styles[name].marker, s=44, alpha=0.9, linewidths=0)
            log_axis(ax, rows["fit_seconds"])
            ax.set(title=f"{dataset} ({protocol})", xlabel="fit seconds (mean, log scale)",
                   ylabel="test accuracy % (mean ± std)" if ax is axes[0, 0] else "")
        _algorithm_legend(figure, styles, family_of, list(family_of))
    return figure


def parse_variant(variant: str) -> dict[str, str]:
    """``"keep_prob=0.5, mask=sample"`` -> {"keep_prob": "0.5", "mask": "sample"}."""
    return dict(part.strip().split("=", 1) for part in variant.split(",") if "=" in part)


def sweep_figure(ok: pd.DataFrame, base: str) -> Figure:
    """A swept algorithm's variants: mean test accuracy (± std over seeds) and
    mean fit seconds against the first swept parameter, a line per value of
    the second (the interaction of, e.g., DDAE's keep_prob and mask)."""
    rows = ok[ok["algorithm"].str.startswith(f"{base}[")].copy()
    settings = pd.DataFrame([parse_variant(v) for v in rows["variant"]], index=rows.index)
    names = list(settings.columns)
    x_name, line_name = names[0], (names[1] if len(names) > 1 else None)
    rows = rows.join(settings)
    rows["accuracy"] = rows["test_accuracy"] * 100
    keys = [x_name] + ([line_name] if line_name else [])
    means = rows.groupby(keys, sort=False).agg(
        accuracy=("accuracy", "mean"), accuracy_std=("accuracy", "std"),
        fit=("fit_seconds", "mean")).reset_index()
    levels = sorted(set(means[x_name]), key=_as_number)
    position = {value: index for index, value in enumerate(levels)}
    lines = sorted(set(means[line_name])) if line_name else [None]
    colours = distinct_colours(map(str, lines))
    with figure_style():
        figure, axes = new_figure(7.2, 3.0, 1, 2)
        accuracy, fit = axes[0]
        for index, value in enumerate(lines):
            mine = means if value is None else means[means[line_name] == value]
            mine = mine.assign(x=mine[x_name].map(position)).sort_values("x")
            shift = (index - (len(lines) - 1) / 2) * 0.06  # error bars side by side
            label = f"{line_name}={value}" if value is not None else base
            style = {"color": colours[str(value)], "marker": MARKERS[index % len(MARKERS)]}
            accuracy.errorbar(mine["x"] + shift, mine["accuracy"],
                              yerr=mine["accuracy_std"].fillna(0), capsize=3,
                              linewidth=1.2, markersize=5, label=label, **style)
            fit.plot(mine["x"] + shift, mine["fit"], linewidth=1.2, markersize=5, **style)
        for ax, name in ((accuracy, "test accuracy % (mean ± std)"),
                         (fit, "fit seconds (mean)")):
            ax.set_xticks(range(len(levels)), labels=levels)
            ax.set(xlabel=x_name, ylabel=name)
        fit.set_ylim(0, 1.12 * float(means["fit"].max()))  # the top marker whole
        figure.legend(loc="outside lower center", ncols=max(1, len(lines)), frameon=False)
    return figure


def _as_number(text: str) -> tuple:
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


# ---------------------------------------------------------------- comparisons


def difference_matrix_figure(order: Sequence[str], difference: pd.DataFrame,
                             labels: pd.DataFrame) -> Figure:
    """Row − column mean test accuracy difference (points), each cell
    annotated with its ``labels`` text (the number and its significance)."""
    k = len(order)
    values = difference.loc[list(order), list(order)].to_numpy(dtype=float)
    labels = labels.loc[list(order), list(order)].to_numpy(dtype=str)
    limit = max(float(np.nanmax(np.abs(values))), 0.01)
    size = 1.6 + 0.62 * k
    with figure_style(grid=False):
        figure, axes = new_figure(size + 1.3, size, layout="compressed")
        ax = axes[0, 0]
        sns.heatmap(pd.DataFrame(values, index=order, columns=order), annot=labels,
                    fmt="", cmap="vlag_r", center=0, vmin=-limit, vmax=limit,
                    linewidths=0.5, linecolor="white", square=True, ax=ax,
                    annot_kws={"fontsize": 8 if k <= 8 else 6},
                    cbar_kws={"label": "row − column, test accuracy points", "shrink": 0.8})
        ax.set(xlabel="column algorithm", ylabel="row algorithm")
        ax.tick_params(axis="y", rotation=0)
        upright_if_crowded(ax)
    return figure


def per_class_figure(accuracy: pd.DataFrame) -> Figure:
    """Algorithms × classes: the share of each class's test images classified
    correctly (%, all seeds pooled)."""
    n_rows, n_classes = accuracy.shape
    annotate = n_classes <= 20
    with figure_style(grid=False):
        # At least as tall as the colour bar's label is long.
        figure, axes = new_figure(1.8 + 0.55 * n_classes + 1.2, max(2.0, 0.9 + 0.36 * n_rows))
        ax = axes[0, 0]
        sns.heatmap(accuracy, annot=annotate, fmt=".1f", cmap="mako",
                    vmin=float(np.floor(np.nanmin(accuracy.to_numpy()))), vmax=100,
                    linewidths=0.5, linecolor="white", ax=ax,
                    annot_kws={"fontsize": 7},
                    cbar_kws={"label": "% of the class correct"})
        ax.set(xlabel="true class", ylabel="")
        ax.tick_params(axis="y", rotation=0)
        upright_if_crowded(ax)
    return figure


def confusion_figure(panels: Sequence[tuple[str, pd.DataFrame]]) -> Figure:
    """Confusion matrices (rows: true class, columns: predicted), as % of each
    true class's images; the diagonal is left white and printed in grey so
    the errors carry the colour."""
    n_classes = panels[0][1].shape[0]
    annotate = n_classes <= 12
    cell = 0.42 if annotate else 0.2
    side = 1.2 + cell * n_classes
    off_diagonal = max(float(np.max(np.where(np.eye(len(matrix), dtype=bool), 0,
                                             matrix.to_numpy()))) for _, matrix in panels)
    with figure_style(grid=False):
        figure, axes = new_figure(side * len(panels) + 1.0, side + 0.5, ncols=len(panels))
        for index, (ax, (title, matrix)) in enumerate(zip(axes[0], panels, strict=True)):
            values = matrix.to_numpy(dtype=float)
            diagonal = np.eye(n_classes, dtype=bool)
            text = np.where(values >= 0.05, np.char.mod("%.1f", values), "")
            sns.heatmap(matrix, mask=diagonal, annot=text if annotate else False, fmt="",
                        cmap="Reds", vmin=0, vmax=max(off_diagonal, 0.1), square=True,
                        linewidths=0.5, linecolor="#eee", ax=ax, annot_kws={"fontsize": 6.5},
                        cbar=index == len(panels) - 1,
                        cbar_kws={"label": "% of the true class (off the diagonal)",
                                  "shrink": 0.8})
            if annotate:
                for i in range(n_classes):
                    ax.text(i + 0.5, i + 0.5, f"{values[i, i]:.0f}", ha="center",
                            va="center", fontsize=6.5, color="grey")
            fitted_title(ax, title)
            ax.set(xlabel="predicted class",
                   ylabel="true class" if index == 0 else "")
            ax.tick_params(axis="y", rotation=0)
    return figure


# ---------------------------------------------------------------- validation maps


#: The least range of validation accuracy (points) an axis or a colour scale
#: shows: a difference of a validation image or two must not look like a gap.
VALIDATION_SPAN = 2.0


def validation_map_figure(scores: pd.DataFrame, chosen: pd.DataFrame,
                          params: Sequence[str], title: str) -> Figure:
    """Mean validation accuracy over seeds across a searched grid.

    ``scores``: one row per (seed, grid point) with a column per parameter in
    ``params`` (values as text, in grid order) and ``score`` (%); ``chosen``:
    the point each seed chose. One parameter: a line per seed and their mean;
    two: a heatmap of the mean, each seed's choice marked.
    """
    levels = {name: list(dict.fromkeys(scores[name])) for name in params}
    with figure_style():
        if len(params) == 1:
            (name,) = params
            figure, axes = new_figure(1.8 + 0.5 * len(levels[name]) + 1.5, 2.8)
            ax = axes[0, 0]
            position = {value: index for index, value in enumerate(levels[name])}
            for seed, rows in scores.groupby("seed", sort=True):
                ax.plot(rows[name].map(position), rows["score"], color="grey",
                        alpha=0.6, linewidth=0.8, marker=".",
                        label="each seed" if seed == scores["seed"].min() else None)
            mean = scores.groupby(name, sort=False)["score"].mean()
            ax.plot([position[v] for v in mean.index], mean.to_numpy(), color="black",
                    marker="o", markersize=4, linewidth=1.4, label="mean over seeds")
            picked = chosen.merge(scores, on=["seed", name])
            ax.scatter(picked[name].map(position), picked["score"], marker="*", s=110,
                       color="#d55e00", zorder=3, label="chosen (per seed)")
            ax.set_xticks(range(len(levels[name])), labels=levels[name])
            ax.margins(x=0.15, y=0.12)
            low, high = ax.get_ylim()
            if high - low < VALIDATION_SPAN:  # one image's worth must not look steep
                middle = (low + high) / 2
                ax.set_ylim(middle - VALIDATION_SPAN / 2, middle + VALIDATION_SPAN / 2)
            ax.set(xlabel=f"{name} (grid points)", ylabel="validation accuracy %")
            figure.legend(loc="outside right upper", frameon=False)
            fitted_title(ax, title)
            return figure
        rows_name, columns_name = params
        table = scores.pivot_table(index=rows_name, columns=columns_name, values="score",
                                   aggfunc="mean", sort=False)
        table = table.reindex(index=levels[rows_name], columns=levels[columns_name])
        n_rows, n_columns = table.shape
        figure, axes = new_figure(2.0 + 0.62 * n_columns + 1.6, 1.6 + 0.4 * n_rows)
        ax = axes[0, 0]
        ax.grid(False)
        best = float(np.nanmax(table.to_numpy()))
        sns.heatmap(table, annot=True, fmt=".1f", cmap="mako", linewidths=0.5,
                    linecolor="white", ax=ax, annot_kws={"fontsize": 7},
                    vmax=best, vmin=min(float(np.nanmin(table.to_numpy())),
                                        best - VALIDATION_SPAN),
                    cbar_kws={"label": "validation accuracy %"})
        seeds = sorted(chosen["seed"])
        for index, seed in enumerate(seeds):
            pick = chosen[chosen["seed"] == seed].iloc[0]
            shift = (index - (len(seeds) - 1) / 2) * 0.16
            ax.scatter(levels[columns_name].index(pick[columns_name]) + 0.5 + shift,
                       levels[rows_name].index(pick[rows_name]) + 0.82, marker="^",
                       s=22, color="#d55e00", edgecolor="white", linewidth=0.5,
                       label="chosen (one mark per seed)" if index == 0 else None)
        ax.set(xlabel=columns_name, ylabel=rows_name)
        ax.tick_params(axis="y", rotation=0)
        figure.legend(loc="outside lower center", frameon=False)
        fitted_title(ax, title)
    return figure


# ---------------------------------------------------------------- across datasets


def cd_diagram_figure(ranks: pd.Series, cd: float) -> Figure:
    """Demšar's critical-difference diagram: average ranks on an axis (1 =
    best, left), the Nemenyi critical difference as a bar, and a thick line
    joining each maximal group whose ranks differ by less than it."""
    ranks = ranks.sort_values(kind="stable")
    k = len(ranks)
    names, values = list(ranks.index), ranks.to_numpy(dtype=float)
    groups = []
    for start in range(k):
        end = max(j for j in range(k) if values[j] - values[start] < cd)
        if end > start and not any(s <= start and end <= e for s, e in groups):
            groups.append((start, end))
    half = (k + 1) // 2
    labels = [f"{name} ({value:.2f})" for name, value in zip(names, values, strict=True)]
    # Sizes in inches: the axis 5 wide, labels as long as their text needs.
    unit = 5.0 / (k - 1 + 1.2)
    margin = (0.075 * max(map(len, labels)) + 0.25) / unit
    top = 1.6
    first_label = -(0.4 + 0.22 * len(groups))
    bottom = first_label - 0.32 * (max(half, k - half) - 1) - 0.35
    with figure_style(grid=False):
        figure, axes = new_figure(unit * (k - 1 + 1.2 + 2 * margin) + 0.1,
                                  0.42 * (top - bottom) + 0.1)
        ax = axes[0, 0]
        ax.set_axis_off()
        ax.set_xlim(0.4 - margin, k + 0.6 + margin)
        ax.set_ylim(bottom, top)
        ax.plot([1, k], [0, 0], color="black", linewidth=1)
        for tick in range(1, k + 1):
            ax.plot([tick, tick], [0, 0.12], color="black", linewidth=1)
            ax.text(tick, 0.2, str(tick), ha="center", va="bottom", fontsize=8)
        ax.text((1 + k) / 2, 0.75, "average rank (1 = best)", ha="center", fontsize=8)
        ax.plot([1, 1 + cd], [1.3, 1.3], color="black", linewidth=1.5)
        for end in (1, 1 + cd):
            ax.plot([end, end], [1.22, 1.38], color="black", linewidth=1)
        ax.text(1 + cd + 0.1, 1.3, f"CD = {cd:.2f}", va="center", fontsize=8)
        for index, (label, value) in enumerate(zip(labels, values, strict=True)):
            left = index < half
            level = first_label - 0.32 * (index if left else k - 1 - index)
            edge = 0.4 if left else k + 0.6
            ax.plot([value, value, edge], [0, level, level], color="dimgrey", linewidth=0.8)
            ax.text(edge + (-0.08 if left else 0.08), level, label,
                    ha="right" if left else "left", va="center", fontsize=8)
        for row, (start, end) in enumerate(groups):
            y = -0.2 - 0.22 * row
            ax.plot([values[start] - 0.04, values[end] + 0.04], [y, y], color="black",
                    linewidth=3, solid_capstyle="round")
    return figure


# ---------------------------------------------------------------- images


def tile_images(images: np.ndarray, image_shape: Sequence[int], columns: int,
                gap: int = 1, normalize: bool = False) -> np.ndarray:
    """Rows of ``images`` (flattened, each ``image_shape``) as one mosaic,
    ``columns`` wide, separated by ``gap`` NaN pixels (drawn as background).
    ``normalize`` stretches each image to [0, 1] on its own (for weights)."""
    height, width = int(image_shape[0]), int(image_shape[1])
    images = np.asarray(images, dtype=float).reshape(len(images), height, width)
    if normalize:
        low = images.min(axis=(1, 2), keepdims=True)
        span = images.max(axis=(1, 2), keepdims=True) - low
        images = (images - low) / np.where(span > 0, span, 1.0)
    rows = math.ceil(len(images) / columns)
    mosaic = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan)
    for index, image in enumerate(images):
        top, left = divmod(index, columns)
        mosaic[top * (height + gap):top * (height + gap) + height,
               left * (width + gap):left * (width + gap) + width] = image
    return mosaic
