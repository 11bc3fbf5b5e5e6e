"""``benchbase site``: results folders as one static website that works offline.

``build_site(folders, out_dir)`` writes

* ``index.html``: every run of every folder (suite, start, commit, machine,
  trials), each linked to its folder's report; then one row per algorithm ×
  dataset × protocol with its latest and best mean accuracy, linked to its
  history;
* ``reports/FOLDER/report.html``: each folder's report (``build_report``);
* ``history/SERIES.html``: per algorithm × dataset × protocol, the mean test
  accuracy and fit time of every run that measured it, oldest first, as
  figures and a table (the idea of ``asv publish``).

Pages are self-contained HTML (figures inline; a few lines of script make
tables sortable) and every link is relative, so the folder opens from disk,
from any web server or from an archive, with no network. Folders are read
one by one: the same trial may appear in several (the same suite run again
into a new folder is what a history is made of).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from benchbase.plugins import Catalog, load_catalog
from benchbase.report.build import build_report
from benchbase.report.document import Block, Heading, Image, Notice, Paragraph, Table, make_slug
from benchbase.report.figures import distinct_colours, figure_style, new_figure, svg_text
from benchbase.report.machines import describe_environment
from benchbase.report.reading import read_folder
from benchbase.report.render import render_html
from benchbase.report.tables import minute
from benchbase.results.record import Status
from benchbase.results.store import ResultStore

DEFAULT_TITLE = "benchbase results"
SERIES = ["algorithm", "dataset", "protocol"]
REPORTS_DIR = "reports"
HISTORY_DIR = "history"


def build_site(folders: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str],
               title: str | None = None, catalog: Catalog | None = None,
               rope: float | None = None) -> list[Path]:
    """Write the site of ``folders`` (results folders of ``benchbase run``) into
    ``out_dir``; returns the pages written, ``index.html`` first.

    Refuses, before writing anything, a folder given twice and a folder
    without a readable results table (the error names it).
    """
    if not folders:
        raise ValueError("no results folder given")
    names = [str(folder) for folder in folders]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"results folder(s) given twice: {', '.join(repeated)}")
    tables = {name: read_folder(name) for name in names}  # errors name the folder
    catalog = catalog or load_catalog()
    out_dir = Path(out_dir)
    slugs = _unique_slugs(names)
    runs = pd.DataFrame([run for name in names for run in _runs(name, tables[name])])
    written = [out_dir / "index.html"]
    for name in names:
        report_dir = out_dir / REPORTS_DIR / slugs[name]
        title_of = f"{_suite_of(runs[runs['folder'] == name])}: {name}"
        written += build_report(tables[name], report_dir, ["html"], title_of, catalog,
                                rope=rope)
    history = _history(tables, runs)
    series_pages = {}
    for key, points in history.groupby(SERIES, sort=True):
        page = Path(HISTORY_DIR) / f"{make_slug(*key)}.html"
        series_pages[key] = page
        blocks = _series_blocks(key, points)
        _write(out_dir / page, render_html(blocks, " · ".join(key)))
        written.append(out_dir / page)
    index = _index_blocks(title or DEFAULT_TITLE, runs, history, series_pages, slugs)
    _write(out_dir / "index.html", render_html(index, title or DEFAULT_TITLE))
    return written


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _unique_slugs(names: Sequence[str]) -> dict[str, str]:
    """A folder name per results folder under reports/ (``-2``… where two collide)."""
    slugs: dict[str, str] = {}
    for name in names:
        base = make_slug(name) or "results"
        slug, number = base, 2
        while slug in slugs.values():
            slug, number = f"{base}-{number}", number + 1
        slugs[name] = slug
    return slugs


def _machine(environment: Mapping[str, Any]) -> str:
    if not environment:
        return "—"
    cores = f"{environment.get('usable_cores', '?')}/{environment.get('cpu_count', '?')} cores"
    gpu = environment.get("gpu")
    return ", ".join(part for part in (environment.get("cpu") or "CPU ?", cores, gpu,
                                       environment.get("host")) if part)


def _suite_from_command(command: str) -> str:
    """The suite a recorded ``benchbase run`` command ran ("quick" when it
    named none), read with the command line's own parser; "—" if unreadable."""
    from benchbase.cli.main import build_parser
    from benchbase.cli.run_command import DEFAULT_SUITE

    try:
        words = shlex.split(command)
        start = words.index("run")
        args, _ = build_parser().parse_known_args(words[start:])
    except (ValueError, SystemExit):
        return "—"
    return Path(args.suite).stem if args.suite else DEFAULT_SUITE


def _suite_of_run(run: Mapping[str, Any]) -> str:
    """The suite a run recorded; for runs of older benchbase, read from its command."""
    named = (run.get("suite") or {}).get("name")
    if named:
        return str(named)
    return _suite_from_command(run["command"]) if "command" in run else "—"


def _row_environment(rows: pd.DataFrame) -> dict[str, Any]:
    for text in rows.get("environment", pd.Series(dtype=str)):
        if text:
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                continue
    return {}


def _runs(folder: str, rows: pd.DataFrame) -> list[dict[str, Any]]:
    """One record per run with rows in ``folder``'s table; runs.jsonl says
    its command, machine and commit, else (older folders) its rows do."""
    recorded = {run.get("run_id"): run for run in ResultStore(folder).runs()}
    records = []
    for run_id, own in rows.groupby(rows["run_id"].fillna("").astype(str), sort=False):
        run = recorded.get(run_id, {})
        environment = run.get("environment") or _row_environment(own)
        started = run.get("started_at") or min(own["started_at"].astype(str))
        records.append({
            "folder": folder, "run_id": run_id, "started_at": started,
            "suite": _suite_of_run(run),
            "commit": describe_environment(environment)["git commit"],
            "machine": _machine(environment),
            "trials": len(own), "ok": int((own["status"] == Status.OK).sum()),
        })
    return records


def _suite_of(runs: pd.DataFrame) -> str:
    suites = sorted(set(runs["suite"]) - {"—"})
    return " + ".join(suites) if suites else "results"


def _history(tables: Mapping[str, pd.DataFrame], runs: pd.DataFrame) -> pd.DataFrame:
    """Per series and run: seeds, accuracy (mean, std, each seed's) and fit time."""
    records = []
    for folder, rows in tables.items():
        ok = rows[rows["status"] == Status.OK]
        for (*key, run_id), own in ok.groupby([*SERIES, ok["run_id"].fillna("")
                                               .astype(str)], sort=False):
            run = runs[(runs["folder"] == folder) & (runs["run_id"] == run_id)].iloc[0]
            accuracy = own["test_accuracy"].astype(float) * 100
            records.append({**dict(zip(SERIES, key, strict=True)), "folder": folder,
                            "run_id": run_id, "started_at": run["started_at"],
                            "commit": run["commit"], "machine": run["machine"],
                            "family": own["family"].iloc[0], "seeds": len(own),
                            "accuracy": accuracy.mean(), "accuracy_std": accuracy.std(),
                            "per_seed": sorted(accuracy),
                            "fit_seconds": own["fit_seconds"].astype(float).mean()})
    columns = [*SERIES, "folder", "run_id", "started_at", "commit", "machine", "family",
               "seeds", "accuracy", "accuracy_std", "per_seed", "fit_seconds"]
    return pd.DataFrame(records, columns=columns).sort_values(
        [*SERIES, "started_at"], kind="stable").reset_index(drop=True)


def _accuracy_text(mean: float, std: float) -> str:
    return f"{mean:.2f}" if pd.isna(std) else f"{mean:.2f} ± {std:.2f}"


def _index_blocks(title: str, runs: pd.DataFrame, history: pd.DataFrame,
                  series_pages: Mapping[tuple, Path], slugs: Mapping[str, str]) -> list[Block]:
    runs = runs.sort_values("started_at", kind="stable").reset_index(drop=True)
    run_table = Table(pd.DataFrame({
        "started (UTC)": runs["started_at"].map(minute), "suite": runs["suite"],
        "results folder": runs["folder"], "run": runs["run_id"].str[:12],
        "commit": runs["commit"], "machine": runs["machine"],
        "trials": runs["trials"].astype(str), "ok": runs["ok"].astype(str)}),
        right=("trials", "ok"), sortable=True,
        links={(row, "results folder"): f"{REPORTS_DIR}/{slugs[folder]}/report.html"
               for row, folder in enumerate(runs["folder"])})
    latest = history.groupby(SERIES, sort=True).tail(1).reset_index(drop=True)
    best = history.groupby(SERIES, sort=True)["accuracy"].max()
    counts = history.groupby(SERIES, sort=True).size()
    series_table = Table(pd.DataFrame({
        "algorithm": latest["algorithm"], "family": latest["family"],
        "dataset": latest["dataset"], "protocol": latest["protocol"],
        "runs": [str(counts[tuple(key)]) for key in latest[SERIES].itertuples(index=False)],
        "latest accuracy %": [_accuracy_text(m, s) for m, s in
                              zip(latest["accuracy"], latest["accuracy_std"], strict=True)],
        "best run's mean %": [f"{best[tuple(key)]:.2f}"
                              for key in latest[SERIES].itertuples(index=False)],
        "latest fit s": latest["fit_seconds"].map(lambda s: f"{s:,.1f}"),
        "latest run": latest["started_at"].map(minute)}),
        right=("runs", "latest accuracy %", "best run's mean %", "latest fit s"),
        sortable=True,
        links={(row, "algorithm"): series_pages[tuple(key)].as_posix()
               for row, key in enumerate(latest[SERIES].itertuples(index=False))})
    blocks: list[Block] = [
        Heading(1, title),
        Paragraph(f"{len(runs)} run(s) from {len(slugs)} results folder(s). Click a "
                  "folder for its report, an algorithm for its history across runs; "
                  "click a column's header to sort by it."),
        Heading(2, "Runs"), run_table,
        Heading(2, "Algorithms × datasets"),
        Paragraph("Accuracies are test accuracy in percent, mean ± standard deviation "
                  "over the run's seeds; fit times are wall seconds, mean over seeds, "
                  "and compare only between runs on one machine."),
        series_table,
    ]
    machines = sorted(set(runs["machine"]) - {"—"})
    if len(machines) > 1:
        blocks.insert(2, Notice(f"These runs come from {len(machines)} machines: times "
                                "compare only between runs of one machine."))
    return blocks


def _series_figure(points: pd.DataFrame, palette: Mapping[str, tuple]) -> Image:
    labels = [f"{minute(started)[:10]}\n{commit}" for started, commit
              in zip(points["started_at"], points["commit"], strict=True)]
    with figure_style():
        figure, axes = new_figure(7.0, 3.0, 1, 2)
        accuracy, fit = axes[0]
        for x, point in enumerate(points.itertuples(index=False)):
            colour = palette[point.machine]
            accuracy.scatter([x] * len(point.per_seed), point.per_seed, s=10,
                             color=colour, alpha=0.4, linewidths=0)
            accuracy.scatter([x], [point.accuracy], s=40, color=colour, marker="D",
                             label=point.machine)
            fit.scatter([x], [point.fit_seconds], s=40, color=colour, marker="D")
        for ax, name in ((accuracy, "test accuracy %"),
                         (fit, "fit seconds (mean)")):
            ax.set_xticks(range(len(points)), labels, fontsize=7)
            ax.set_xlim(-0.5, len(points) - 0.5)
            ax.set_ylabel(name)
        fit.set_ylim(0, 1.15 * max(points["fit_seconds"].max(), 1e-3))
        handles, names = accuracy.get_legend_handles_labels()
        unique = dict(zip(names, handles, strict=True))
        figure.legend(unique.values(), unique.keys(), loc="outside lower center",
                      fontsize=7, frameon=False, title="machine", title_fontsize=7)
    svg = svg_text(figure)
    return Image("history", "Each run's test accuracy (◆ its mean, dots its seeds) and "
                 "mean fit time, oldest first (x: start date and commit); colour: the "
                 "machine it ran on.", svg)


def _series_blocks(key: tuple, points: pd.DataFrame) -> list[Block]:
    algorithm, dataset, protocol = key
    machines = list(dict.fromkeys(points["machine"]))
    palette = distinct_colours(machines)
    table = Table(pd.DataFrame({
        "started (UTC)": points["started_at"].map(minute), "commit": points["commit"],
        "machine": points["machine"], "results folder": points["folder"],
        "run": points["run_id"].str[:12], "seeds": points["seeds"].astype(str),
        "test accuracy %": [_accuracy_text(m, s) for m, s in
                            zip(points["accuracy"], points["accuracy_std"], strict=True)],
        "fit s": points["fit_seconds"].map(lambda s: f"{s:,.1f}")}),
        right=("seeds", "test accuracy %", "fit s"), sortable=True)
    blocks: list[Block] = [
        Paragraph("← all runs and algorithms", link="../index.html"),
        Heading(1, f"{algorithm} on {dataset} ({protocol})"),
        Paragraph(f"{len(points)} run(s) measured it. Accuracy: mean ± standard "
                  "deviation over the run's seeds, in percent; fit time: mean wall "
                  "seconds."),
    ]
    if len(machines) > 1:
        blocks.append(Notice(f"These runs come from {len(machines)} machines: their "
                             "fit times compare only within one machine (colour)."))
    return [*blocks, _series_figure(points, palette), table]
