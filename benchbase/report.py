"""Comparative reports of results folders: accuracy, runtime, chosen parameters.

``read_results(folders)`` reads and checks ``results.csv`` files;
``build_report(results, out_dir, formats, title)`` writes ``report.html``
(figures inline, no network) and/or ``report.md`` (figures as SVG files under
``figures/``). Per dataset × protocol the report shows accuracy and runtime
tables, the parameters chosen on validation for every seed, and the failed
trials; then the provenance of the rows. Aggregates come from
``benchbase.summary``; this module lays them out.

The output is deterministic: sorted orders, fixed styles, figures rendered
with a fixed SVG hash salt and no date, so the same results give the same files.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from benchbase.splits import VALIDATION_FRACTION
from benchbase.store import TABLE_NAME, read_table
from benchbase.summary import percent, percent_pm, summarize

FORMATS = ("html", "md")
DEFAULT_TITLE = "benchbase report"
FIGURES_DIR = "figures"

#: The columns the report reads; a results table without one is refused.
REQUIRED_COLUMNS = (
    "trial_key", "algorithm", "family", "dataset", "protocol", "seed", "n_train",
    "n_test", "params", "search_space", "n_candidates", "val_accuracy", "train_accuracy",
    "test_accuracy", "fit_seconds", "fit_cpu_seconds", "predict_seconds",
    "select_seconds", "peak_rss_mb", "blas_threads", "status", "error", "plugin",
    "benchbase_version", "started_at",
)

# ---------------------------------------------------------------- reading


def read_results(folders: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
    """The rows of every folder's results.csv, with a ``source`` column (the folder).

    Refuses, naming the path: a missing folder or table, missing columns, a
    trial present in two folders (it would count twice), and no rows at all.
    """
    frames = []
    for folder in folders:
        frame = read_table(folder)
        missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
        if missing:
            raise ValueError(f"{Path(folder) / TABLE_NAME}: missing column(s) "
                             f"{', '.join(missing)}")
        frames.append(frame.assign(source=str(folder)))
    if not frames:
        raise ValueError("no results folder given")
    results = pd.concat(frames, ignore_index=True)
    _refuse_shared_trials(results)
    if results.empty:
        raise ValueError(f"no trials in {', '.join(map(str, folders))}")
    return results


def _refuse_shared_trials(results: pd.DataFrame) -> None:
    # A table holds each trial once (the store keeps its last attempt), so a
    # repeated key means a folder given twice or copied into another.
    repeated = results[results["trial_key"].duplicated(keep=False)]
    if not repeated.empty:
        key = repeated["trial_key"].iloc[0]
        folders = repeated.loc[repeated["trial_key"] == key, "source"]
        raise ValueError(
            f"{repeated['trial_key'].nunique()} trial(s) appear in more than one "
            f"folder (e.g. trial {key} in {' and '.join(folders)}); pass each "
            "results folder once")


# ---------------------------------------------------------------- document model


@dataclass
class Table:
    """Cells as text; ``strong`` cells are emphasised, ``right`` columns right-aligned."""

    frame: pd.DataFrame
    strong: set[tuple[int, str]] = field(default_factory=set)
    right: tuple[str, ...] = ()


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Paragraph:
    text: str


@dataclass
class Image:
    name: str  # file stem under figures/
    alt: str
    svg: str


Block = Heading | Paragraph | Table | Image

# ---------------------------------------------------------------- tables


def _dash_if_missing(value: float, fmt: Callable[[float], str]) -> str:
    return "—" if pd.isna(value) else fmt(value)


def accuracy_table(summary: pd.DataFrame) -> Table:
    """One row per algorithm, best mean test accuracy first and in bold."""
    frame = pd.DataFrame({
        "algorithm": summary["algorithm"],
        "family": summary["family"],
        "seeds": summary["trials"].map(_integer),
        "failed": summary["failed"].map(_integer),
        "train %": [percent_pm(m, s) for m, s in
                    zip(summary["train_accuracy"], summary["train_accuracy_std"],
                        strict=True)],
        "test %": [percent_pm(m, s) for m, s in
                   zip(summary["test_accuracy"], summary["test_accuracy_std"],
                       strict=True)],
        "best test % (seed)": [f"{percent(acc)} ({seed})" for acc, seed in
                               zip(summary["best_test_accuracy"], summary["best_seed"],
                                   strict=True)],
        "validation %": [_dash_if_missing(mean, lambda m, s=std: percent_pm(m, s))
                         for mean, std in zip(summary["val_accuracy"],
                                              summary["val_accuracy_std"], strict=True)],
    })
    best = summary["test_accuracy"].max()
    strong = {(row, "test %") for row, mean in enumerate(summary["test_accuracy"])
              if mean == best}
    return Table(frame, strong, right=tuple(frame.columns[2:]))


def _integer(value: float) -> str:
    return _dash_if_missing(value, lambda n: str(int(n)))


def _count(value: float) -> str:
    return _dash_if_missing(value, lambda n: f"{int(n):,}")


def _seconds(value: float) -> str:
    """Three decimals below 10 s, one below 1000 s, none above."""
    return _dash_if_missing(
        value, lambda v: f"{v:.{3 if v < 10 else 1 if v < 1000 else 0}f}")


def runtime_table(summary: pd.DataFrame) -> Table:
    frame = pd.DataFrame({
        "algorithm": summary["algorithm"],
        "fit s": summary["fit_seconds"].map(_seconds),
        "fit CPU s": summary["fit_cpu_seconds"].map(_seconds),
        "predict s": summary["predict_seconds"].map(_seconds),
        "select s": summary["select_seconds"].map(_seconds),
        "peak RSS MiB": summary["peak_rss_mb"].map(
            lambda v: _dash_if_missing(v, "{:.0f}".format)),
    })
    return Table(frame, right=tuple(frame.columns[1:]))


def searched_params(params: str, search_space: str) -> dict:
    """The final parameters restricted to the keys that were searched."""
    chosen = json.loads(params) if params else {}
    searched = json.loads(search_space) if search_space else {}
    return {key: chosen.get(key) for key in sorted(searched)}


def _describe(mapping: dict, join: str) -> str:
    return "; ".join(f"{key}{join}{value}" for key, value in mapping.items()) or "—"


def _grid(search_space: str) -> str:
    """``C ∈ {1, 10}; n_hidden ∈ {500}`` from the search_space JSON."""
    grid = json.loads(search_space) if search_space else {}
    return _describe({key: "{" + ", ".join(map(str, values)) + "}"
                      for key, values in sorted(grid.items())}, " ∈ ")


def parameters_table(ok: pd.DataFrame, order: Sequence[str]) -> Table:
    """Per algorithm and seed: the searched parameters' chosen values."""
    rows = _in_order(ok, order)
    frame = pd.DataFrame({
        "algorithm": rows["algorithm"],
        "seed": rows["seed"].map(_integer),
        "chosen on validation": [
            _describe(searched_params(p, s), "=")
            for p, s in zip(rows["params"], rows["search_space"], strict=True)],
        "validation %": rows["val_accuracy"].map(lambda v: _dash_if_missing(v, percent)),
        "test %": rows["test_accuracy"].map(percent),
    })
    return Table(frame.reset_index(drop=True), right=("seed", "validation %", "test %"))


def search_space_table(ok: pd.DataFrame, order: Sequence[str]) -> Table:
    """Each algorithm's distinct grids (they may depend on the data's size)."""
    rows = _in_order(ok, order).drop_duplicates(["algorithm", "search_space"])
    frame = pd.DataFrame({
        "algorithm": rows["algorithm"],
        "searched grid": rows["search_space"].map(_grid),
        "candidates": rows["n_candidates"].map(_integer),
    })
    return Table(frame.reset_index(drop=True), right=("candidates",))


def failed_table(failed: pd.DataFrame) -> Table:
    rows = failed.sort_values(["algorithm", "seed"], kind="stable")
    frame = pd.DataFrame({
        "algorithm": rows["algorithm"],
        "seed": rows["seed"].map(_integer),
        "status": rows["status"],
        "error": rows["error"].map(lambda text: " ".join(str(text).split()) or "—"),
    })
    return Table(frame.reset_index(drop=True), right=("seed",))


def _distinct(values: pd.Series, fmt: Callable[[object], str] = str) -> str:
    """The distinct values present, in their natural order, formatted."""
    present = sorted({value for value in values if value != "" and not pd.isna(value)})
    return ", ".join(map(fmt, present)) or "—"


def _date_range(started_at: pd.Series) -> str:
    stamps = pd.to_datetime(started_at[started_at != ""], utc=True, format="ISO8601")
    if stamps.empty:
        return "—"
    first, last = (stamp.strftime("%Y-%m-%d %H:%M") for stamp in (stamps.min(), stamps.max()))
    return f"{first} – {last}"


def provenance_table(results: pd.DataFrame) -> Table:
    """Per results folder: trial counts, versions, BLAS threads, date range."""
    sources = results["source"] if "source" in results else pd.Series("—", results.index)
    records = []
    for source, rows in results.groupby(sources, sort=True):
        ok = int((rows["status"] == "ok").sum())
        records.append({
            "folder": source,
            "trials": str(len(rows)),
            "ok": str(ok),
            "failed": str(len(rows) - ok),
            "benchbase": _distinct(rows["benchbase_version"]),
            "plugins": _distinct(rows["plugin"]),
            "BLAS threads": _distinct(rows["blas_threads"], _integer),
            "started (UTC)": _date_range(rows["started_at"]),
        })
    return Table(pd.DataFrame(records), right=("trials", "ok", "failed", "BLAS threads"))


def _in_order(rows: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    rank = {name: index for index, name in enumerate(order)}
    return rows.assign(_rank=rows["algorithm"].map(rank)).sort_values(
        ["_rank", "seed"], kind="stable").drop(columns="_rank")


# ---------------------------------------------------------------- figures


# Fixed looks, and SVG without random ids (the default salt is a fresh UUID).
_RC = {"svg.hashsalt": "benchbase", "svg.fonttype": "path", "font.size": 9}


@contextmanager
def _figure_style() -> Iterator[None]:
    with sns.axes_style("whitegrid"), matplotlib.rc_context(_RC):
        yield


def _new_figure(width: float, height: float, ncols: int = 1) -> tuple[Figure, list]:
    # No pyplot: a Figure on an explicit Agg canvas renders headless and
    # leaves the caller's backend and global state alone.
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, list(figure.subplots(1, ncols, squeeze=False)[0])


def family_palette(families: Iterable[str]) -> dict[str, tuple]:
    """A colour per family, the same in every figure of a report."""
    names = sorted(set(families))
    return dict(zip(names, sns.color_palette("colorblind", len(names)), strict=True))


def _legend(figure: Figure, palette: dict[str, tuple], families: Iterable[str],
            mean_label: str | None = None, markers: dict[str, str] | None = None) -> None:
    """Families by colour, then the mean's marker or the algorithms' markers.

    Built here, so it does not depend on how seaborn labels its artists.
    """
    def handle(label: str, marker: str = "", color: str | tuple = "black") -> Line2D:
        return Line2D([], [], linestyle="none", marker=marker, color=color, label=label)

    handles = [handle(name, "o", palette[name]) for name in sorted(set(families))]
    if mean_label:
        handles.append(handle(mean_label, "D"))
    if markers:
        handles += [handle("algorithm"),  # a sub-heading: no marker
                    *(handle(name, marker, "dimgrey") for name, marker in markers.items())]
    figure.legend(handles=handles, title="family", loc="outside right upper",
                  frameon=False)


def _seed_offsets(rows: pd.DataFrame) -> pd.Series:
    """Spread an algorithm's seeds across its row: deterministic, unlike jitter."""
    by_algorithm = rows.groupby("algorithm")["seed"]
    rank = by_algorithm.rank(method="first") - 1
    count = by_algorithm.transform("size")
    return (rank / (count - 1).clip(lower=1) - 0.5) * 0.4 * (count > 1)


def per_seed_figure(ok: pd.DataFrame, summary: pd.DataFrame, column: str, label: str,
                    palette: dict[str, tuple], std: bool = False, log: bool = False,
                    scale: float = 1.0) -> Figure:
    """Each seed's ``column`` as a point coloured by family; the summary's mean
    (± std with ``std``) as a black diamond. Algorithms in ``summary``'s order,
    top to bottom."""
    order = list(summary["algorithm"])
    position = {name: index for index, name in enumerate(order)}
    rows = _in_order(ok[ok["algorithm"].isin(position)], order)
    points = pd.DataFrame({
        label: rows[column] * scale,
        "row": rows["algorithm"].map(position) + _seed_offsets(rows),
        "family": rows["family"],
    })
    with _figure_style():
        figure, (ax,) = _new_figure(6.4, 1.0 + 0.32 * len(order))
        sns.scatterplot(data=points, x=label, y="row", hue="family",
                        hue_order=sorted(palette), palette=palette, alpha=0.7,
                        s=26, legend=False, ax=ax)
        ax.errorbar(summary[column] * scale, range(len(order)),
                    xerr=summary[f"{column}_std"] * scale if std else None,
                    fmt="D", color="black", markersize=4, capsize=3, linewidth=1)
        ax.set_yticks(range(len(order)), labels=order)
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.set_ylabel("")
        if log:
            ax.set_xscale("log")
        _legend(figure, palette, rows["family"], "mean ± std" if std else "mean")
    return figure


# Filled markers only: seaborn refuses to mix filled and line markers.
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "p", "h", "<", ">", "*")


def cost_figure(summary: pd.DataFrame, palette: dict[str, tuple]) -> Figure:
    """Mean test accuracy (± std) against mean fit seconds (log), one panel
    per dataset × protocol, a point per algorithm (colour: family, marker:
    algorithm; markers repeat after twelve algorithms)."""
    sections = list(summary.groupby(["dataset", "protocol"], sort=True))
    names = sorted(set(summary["algorithm"]))
    markers = {name: MARKERS[index % len(MARKERS)] for index, name in enumerate(names)}
    with _figure_style():
        figure, axes = _new_figure(3.8 * len(sections) + 1.2, 3.4, ncols=len(sections))
        for ax, ((dataset, protocol), rows) in zip(axes, sections, strict=True):
            rows = rows.sort_values("algorithm")
            accuracy = rows["test_accuracy"] * 100
            ax.errorbar(rows["fit_seconds"], accuracy, yerr=rows["test_accuracy_std"] * 100,
                        fmt="none", ecolor="grey", elinewidth=0.8, capsize=2)
            sns.scatterplot(x=rows["fit_seconds"], y=accuracy, hue=rows["family"],
                            hue_order=sorted(palette), palette=palette,
                            style=rows["algorithm"], style_order=names, markers=markers,
                            s=44, alpha=0.85, legend=False, ax=ax)
            ax.set_xscale("log")
            ax.set(title=f"{dataset} ({protocol})", xlabel="fit seconds (mean)",
                   ylabel="test accuracy % (mean ± std)" if ax is axes[0] else "")
        _legend(figure, palette, summary["family"], markers=markers)
    return figure


def svg_text(figure: Figure) -> str:
    """The figure as SVG, without a date: the same results give the same bytes."""
    buffer = io.StringIO()
    with matplotlib.rc_context(_RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


# ---------------------------------------------------------------- the document

METHOD = (
    "How these numbers were made: each trial (algorithm × dataset × protocol × "
    "seed) chose its hyper-parameters on a stratified {percent:g} % validation "
    "split of its training data, refit the chosen ones on the whole training "
    "part, and measured test accuracy once. Accuracies are percentages: mean ± "
    "sample standard deviation over the seeds that finished ok. Times are wall "
    "seconds, means over seeds."
)


def _slug(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", "-".join(parts)).strip("-").lower()


def _section_summary(summary: pd.DataFrame, dataset: str, protocol: str) -> pd.DataFrame:
    if summary.empty:  # no ok trial anywhere: summarize() gives no columns to sort by
        return summary
    rows = summary[(summary["dataset"] == dataset) & (summary["protocol"] == protocol)]
    return rows.sort_values(["test_accuracy", "algorithm"], ascending=[False, True],
                            kind="stable").reset_index(drop=True)


def section_blocks(rows: pd.DataFrame, summary: pd.DataFrame,
                   palette: dict[str, tuple]) -> list[Block]:
    """Accuracy, runtime, chosen parameters and failures of one dataset × protocol."""
    dataset, protocol = rows["dataset"].iloc[0], rows["protocol"].iloc[0]
    ok = rows[rows["status"] == "ok"]
    failed = rows[rows["status"] != "ok"]
    slug = _slug(dataset, protocol)
    blocks: list[Block] = [
        Heading(2, f"{dataset}, {protocol} protocol"),
        Paragraph(f"{_distinct(rows['n_train'], _count)} training images (the "
                  f"validation split is carved from these), "
                  f"{_distinct(rows['n_test'], _count)} test images per trial."),
    ]
    if summary.empty:
        blocks.append(Paragraph("No trial finished ok: nothing to compare."))
    else:
        order = list(summary["algorithm"])
        blocks += [
            Heading(3, "Accuracy"),
            accuracy_table(summary),
            Paragraph("Sorted by mean test accuracy; the highest is in bold. Best: "
                      "the best seed's test accuracy (and that seed). Validation: "
                      "the chosen parameters' accuracy on the validation split "
                      "(— where there was nothing to choose)."),
            Image(f"{slug}-test-accuracy", f"Test accuracy per seed, {dataset} "
                  f"({protocol})",
                  svg_text(per_seed_figure(ok, summary, "test_accuracy",
                                           "test accuracy %", palette, std=True,
                                           scale=100))),
            Heading(3, "Runtime"),
            runtime_table(summary),
            Paragraph("Wall seconds of the final fit, the test prediction and the "
                      "whole selection (every candidate); fit CPU seconds count "
                      "every thread. Peak RSS: the largest over seeds of the "
                      "trial process's peak memory (interpreter, data and model)."),
            Image(f"{slug}-fit-seconds", f"Fit seconds per seed, {dataset} ({protocol})",
                  svg_text(per_seed_figure(ok, summary, "fit_seconds",
                                           "fit seconds (log scale)", palette,
                                           log=True))),
            Heading(3, "Parameters chosen on validation"),
            Paragraph("Only the searched parameters; the test data played no part "
                      "in choosing them."),
            search_space_table(ok, order),
            parameters_table(ok, order),
        ]
    if not failed.empty:
        blocks += [Heading(3, "Failed trials"), failed_table(failed)]
    return blocks


def report_blocks(results: pd.DataFrame, title: str) -> list[Block]:
    summary = summarize(results)
    palette = family_palette(results["family"])
    n_ok = int((results["status"] == "ok").sum())
    blocks: list[Block] = [
        Heading(1, title),
        Paragraph(f"{len(results)} trials ({n_ok} ok, {len(results) - n_ok} failed): "
                  f"{_distinct(results['algorithm'])} on "
                  f"{_distinct(results['dataset'])}."),
        Paragraph(METHOD.format(percent=100 * VALIDATION_FRACTION)),
    ]
    if summary.empty:
        blocks.append(Paragraph("No trial finished ok: there is nothing to compare; "
                                "the failed trials are listed below."))
    else:
        blocks += [
            Heading(2, "Accuracy against fit time"),
            Paragraph("A point per algorithm: mean test accuracy (± std over "
                      "seeds) against mean fit seconds, log scale. Up and to the "
                      "left is better."),
            Image("accuracy-vs-fit-seconds", "Accuracy against fit time",
                  svg_text(cost_figure(summary, palette))),
        ]
    for (dataset, protocol), rows in results.groupby(["dataset", "protocol"], sort=True):
        blocks += section_blocks(rows, _section_summary(summary, dataset, protocol),
                                 palette)
    blocks += [
        Heading(2, "Provenance"),
        provenance_table(results),
        Paragraph("Versions and BLAS threads as recorded by each trial; the dates "
                  "are when the trials started."),
    ]
    return blocks


# ---------------------------------------------------------------- rendering


# What GitHub's Markdown would read as markup; "_" inside a word is plain text.
_MD_SPECIAL = re.compile(r"[\\`*|<>\[\]]|(?<!\w)_|_(?!\w)")


def _md_escape(text: str) -> str:
    """One line of literal text (table cells cannot hold line breaks)."""
    return _MD_SPECIAL.sub(lambda match: "\\" + match.group(), " ".join(str(text).split()))


def _md_table(table: Table) -> str:
    columns = list(table.frame.columns)
    lines = ["| " + " | ".join(_md_escape(name) for name in columns) + " |",
             "| " + " | ".join("---:" if name in table.right else "---"
                               for name in columns) + " |"]
    for row, values in enumerate(table.frame.itertuples(index=False)):
        cells = [f"**{_md_escape(value)}**" if (row, name) in table.strong
                 else _md_escape(value) for name, value in zip(columns, values, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_markdown(blocks: Sequence[Block]) -> str:
    parts = []
    for block in blocks:
        match block:
            case Heading(level, text):
                parts.append(f"{'#' * level} {_md_escape(text)}")
            case Paragraph(text):
                parts.append(_md_escape(text))
            case Table():
                parts.append(_md_table(block))
            case Image(name, alt):
                parts.append(f"![{_md_escape(alt)}]({FIGURES_DIR}/{name}.svg)")
    return "\n\n".join(parts) + "\n"


CSS = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left;
         vertical-align: top; }
th { border-bottom: 2px solid #888; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.85rem; color: #555; }
"""


def _html_table(table: Table) -> str:
    def cell(tag: str, name: str, text: str, strong: bool = False) -> str:
        css = ' class="num"' if name in table.right else ""
        text = html.escape(str(text))
        return f"<{tag}{css}>{f'<strong>{text}</strong>' if strong else text}</{tag}>"

    columns = list(table.frame.columns)
    head = "".join(cell("th", name, name) for name in columns)
    body = [
        "<tr>" + "".join(cell("td", name, value, (row, name) in table.strong)
                         for name, value in zip(columns, values, strict=True)) + "</tr>"
        for row, values in enumerate(table.frame.itertuples(index=False))
    ]
    return "\n".join(["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>", *body,
                      "</tbody>", "</table>"])


def _inline_svg(svg: str) -> str:
    return svg[svg.index("<svg"):].strip()  # drop the XML prolog and DOCTYPE


def render_html(blocks: Sequence[Block], title: str) -> str:
    parts = []
    for block in blocks:
        match block:
            case Heading(level, text):
                parts.append(f"<h{level}>{html.escape(text)}</h{level}>")
            case Paragraph(text):
                parts.append(f"<p>{html.escape(text)}</p>")
            case Table():
                parts.append(_html_table(block))
            case Image(_, alt, svg):
                parts.append(f"<figure>\n{_inline_svg(svg)}\n"
                             f"<figcaption>{html.escape(alt)}</figcaption>\n</figure>")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>", f"<style>{CSS}</style>", "</head>",
        "<body>", *parts, "</body>", "</html>",
    ]) + "\n"


def check_formats(formats: Iterable[str]) -> list[str]:
    formats = list(formats)
    unknown = [name for name in formats if name not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown report format {', '.join(map(repr, unknown)) or '(none)'}; "
                         f"expected one or more of {', '.join(FORMATS)}")
    return formats


def build_report(results: pd.DataFrame, out_dir: str | os.PathLike[str],
                 formats: Iterable[str] = FORMATS, title: str | None = None) -> list[Path]:
    """Write ``report.html`` and/or ``report.md`` (+ its figures) into ``out_dir``.

    ``results`` holds result rows (``read_results`` or ``ResultStore.frame()``);
    returns the paths written, the reports first.
    """
    formats = check_formats(formats)
    title = title or DEFAULT_TITLE
    missing = [name for name in REQUIRED_COLUMNS if name not in results.columns]
    if missing:
        raise ValueError(f"results lack column(s) {', '.join(missing)}")
    if results.empty:
        raise ValueError("no trials to report")
    blocks = report_blocks(results, title)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if "html" in formats:
        written.append(out_dir / "report.html")
        written[-1].write_text(render_html(blocks, title), encoding="utf-8")
    if "md" in formats:
        written.append(out_dir / "report.md")
        written[-1].write_text(render_markdown(blocks), encoding="utf-8")
        images = [block for block in blocks if isinstance(block, Image)]
        if images:
            (out_dir / FIGURES_DIR).mkdir(exist_ok=True)
        for image in images:
            written.append(out_dir / FIGURES_DIR / f"{image.name}.svg")
            written[-1].write_text(image.svg, encoding="utf-8")
    return written
