"""The report, assembled: the core's sections, then plugins', then provenance."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from benchbase.names import canonical
from benchbase.plugins import Catalog, load_catalog
from benchbase.report import (
    answer,
    families,
    machines,
    pairs,
    predictions,
    ranks,
    references,
    validation,
)
from benchbase.report.document import (
    Block,
    Contents,
    Details,
    Heading,
    Image,
    Notice,
    Paragraph,
    make_slug,
    walk,
)
from benchbase.report.figures import (
    Style,
    algorithm_styles,
    cost_figure,
    per_seed_figure,
    svg_text,
    sweep_figure,
)
from benchbase.report.reading import (
    ArtifactLoader,
    latest_trials,
    runs,
    suite_settings,
    superseded_notices,
    unreadable_notices,
)
from benchbase.report.render import FIGURES_DIR, render_html, render_markdown
from benchbase.report.sections import SectionContext, plugin_sections
from benchbase.report.stats import ALPHA, ROPE
from benchbase.report.tables import (
    accuracy_table,
    count,
    distinct,
    failed_table,
    parameters_table,
    runtime_table,
    search_space_table,
)
from benchbase.results.format import TABLE_COLUMNS
from benchbase.results.record import Status
from benchbase.results.summary import summarize
from benchbase.trial.splits import VALIDATION_FRACTION

FORMATS = ("html", "md")
DEFAULT_TITLE = "benchbase report"

METHOD = (
    "How these numbers were made: each trial (algorithm × dataset × protocol × "
    "seed) chose its hyper-parameters on a stratified {percent:g} % validation "
    "split of its training data, refit the chosen ones on the whole training "
    "part, and measured test accuracy once. Accuracies are percentages: mean ± "
    "sample standard deviation over the seeds that finished ok. Times are wall "
    "seconds, means over seeds."
)


def section_summary(summary: pd.DataFrame, dataset: str, protocol: str) -> pd.DataFrame:
    if summary.empty:  # no ok trial anywhere: summarize() gives no columns to sort by
        return summary
    rows = summary[(summary["dataset"] == dataset) & (summary["protocol"] == protocol)]
    return rows.sort_values(["test_accuracy", "algorithm"], ascending=[False, True],
                            kind="stable").reset_index(drop=True)


def _standing_text(comparison: pairs.BlockComparison, standing: dict[str, str]) -> str:
    examples = (" and the pooled McNemar test across test examples"
                if comparison.has_examples
                else " (no stored predictions for a per-example test)")
    rule = (f"by every test that could be made: the paired t-test across seeds{examples}, "
            f"Holm-adjusted, at {ALPHA:g}")
    text = "Sorted by mean test accuracy. "
    if not standing:
        return text + "One algorithm: no standing to decide."
    leader = comparison.order[0]
    if standing[leader] == pairs.BEST:
        return text + (f"{leader} is in bold: it is ahead of every other algorithm "
                       f"{rule} (see Paired comparisons).")
    tied = [name for name in comparison.order if standing.get(name) == pairs.TIED]
    return text + (f"Nothing is bold: no algorithm is ahead of every other {rule}. "
                   f"{leader} has the highest mean; not separated from it: "
                   f"{', '.join(tied) or 'none'} (not shown to be behind it, which does not "
                   "make them equivalent: the Bayesian correlated t-test in Paired "
                   "comparisons says that). More seeds are what separates close "
                   "algorithms.")


def block_result(rows: pd.DataFrame, summary: pd.DataFrame, loader: ArtifactLoader,
                 rope: float = ROPE) -> answer.BlockResult:
    """One dataset × protocol compared: every pair, once, for the summary and
    the block's own section."""
    dataset, protocol = rows["dataset"].iloc[0], rows["protocol"].iloc[0]
    comparison = None
    if not summary.empty:
        ok = rows[rows["status"] == Status.OK]
        comparison = pairs.compare_block(ok, list(summary["algorithm"]), loader, rope=rope)
    return answer.BlockResult(dataset, protocol, rows, summary, comparison)


def block_blocks(block: answer.BlockResult, styles: dict[str, Style], catalog: Catalog,
                 loader: ArtifactLoader, reference_sets: list[references.ReferenceSet],
                 rope: float = ROPE) -> list[Block]:
    """Everything about one dataset × protocol (``rope``: points, the pairs'
    region of practical equivalence): what a reader compares open, the
    evidence (per-seed values, every test, grids, parameters) folded."""
    rows, summary, comparison = block.rows, block.summary, block.comparison
    dataset, protocol, where = block.dataset, block.protocol, block.where
    ok = rows[rows["status"] == Status.OK]
    failed = rows[rows["status"] != Status.OK]
    slug = make_slug(dataset, protocol)
    blocks: list[Block] = [
        Heading(2, f"{dataset}, {protocol} protocol"),
        Paragraph(f"{distinct(rows['n_train'], count)} training images (the "
                  f"validation split is carved from these), "
                  f"{distinct(rows['n_test'], count)} test images per trial."),
    ]
    if comparison is None:
        blocks.append(Paragraph("No trial finished ok: nothing to compare."))
    else:
        order = comparison.order
        standing = comparison.standing()
        blocks += [
            Heading(3, "Accuracy"),
            accuracy_table(summary, standing),
            Paragraph(_standing_text(comparison, standing) + " Best: the best seed's "
                      "test accuracy (and that seed). Validation: the chosen "
                      "parameters' accuracy on the validation split (— where there was "
                      "nothing to choose)."),
            *_sweep_blocks(ok, slug, where),
            Details("Test accuracy of every seed (figure)", [
                Image(f"{slug}-test-accuracy", f"Test accuracy per seed, {where}",
                      svg_text(per_seed_figure(ok, summary, "test_accuracy",
                                               "test accuracy %", styles, std=True,
                                               scale=100)))]),
            Heading(3, "Paired comparisons"),
            Details("Every pair: the difference matrix, the tests across seeds and "
                    "across test examples, and each pair in words",
                    pairs.section(comparison, slug, dataset, protocol)),
        ]
        family_view = families.section(ok, loader, where, rope)
        if family_view:
            blocks += [Heading(3, "Families"), *family_view]
        published = references.section(reference_sets, dataset, protocol, ok)
        if published:
            blocks += [Heading(3, "Published results beside ours"), *published]
        blocks += [
            Heading(3, "Runtime"),
            runtime_table(summary),
            Paragraph("Wall seconds of the final fit, the test prediction and the "
                      "whole selection (every candidate); fit CPU seconds count "
                      "every thread. Peak RSS: the largest over seeds of the "
                      "trial process's peak memory (interpreter, data and model)."),
            Details("Fit seconds of every seed (figure)", [
                Image(f"{slug}-fit-seconds", f"Fit seconds per seed, {where}",
                      svg_text(per_seed_figure(ok, summary, "fit_seconds",
                                               "fit seconds (log scale)", styles,
                                               log=True)))]),
            Heading(3, "Details"),
            Details("Per class: accuracy of each class, and the confusions",
                    predictions.section(ok, order, loader, slug, where)),
            Details("Validation scores over the searched grids",
                    validation.section(ok, order, loader, slug, where)),
            Details("Parameters chosen on validation", [
                Paragraph("Only the searched parameters; the test data played no part "
                          "in choosing them."),
                search_space_table(ok, order),
                parameters_table(ok, order)]),
        ]
        context = SectionContext(rows, order, loader, dataset, protocol)
        blocks += plugin_sections(catalog, "block", context, slug)
    if not failed.empty:
        blocks += [Heading(3, "Failed trials"), failed_table(failed)]
    return blocks


def _sweep_blocks(ok: pd.DataFrame, slug: str, where: str) -> list[Block]:
    """A figure per algorithm swept over its parameters (a suite's ``sweep``)."""
    swept = ok[ok["variant"].fillna("").astype(str) != ""]
    bases = sorted(set(swept["algorithm"].str.split("[").str[0]))
    return [Image(make_slug(slug, base, "sweep"),
                  f"{base}'s swept parameters, {where}: mean test accuracy (± std over "
                  "seeds) and mean fit time of each variant",
                  svg_text(sweep_figure(swept, base)))
            for base in bases if swept["algorithm"].str.startswith(f"{base}[").sum() > 1]


def report_blocks(results: pd.DataFrame, title: str, catalog: Catalog,
                  loader: ArtifactLoader | None = None, rope: float | None = None,
                  focus: str | None = None) -> list[Block]:
    """The report: the summary (``focus``: the algorithm whose comparisons it
    shows), contents, then each part. ``focus`` and ``rope`` default to what
    the runs' suite recorded, else the leader and ``ROPE``."""
    loader = loader or ArtifactLoader()
    recorded = suite_settings(runs(results))
    focus = focus or recorded.get("focus")
    rope = rope if rope is not None else recorded.get("rope", ROPE)
    results, superseded = latest_trials(results)
    summary = summarize(results)
    styles = algorithm_styles(dict(zip(results["algorithm"], results["family"],
                                       strict=True)))
    reference_sets, problems = references.load_all(catalog.references.specs())
    n_ok = int((results["status"] == Status.OK).sum())
    block_results = [
        block_result(rows, section_summary(summary, dataset, protocol), loader, rope)
        for (dataset, protocol), rows in results.groupby(["dataset", "protocol"],
                                                          sort=True)]
    blocks: list[Block] = [
        Heading(1, title),
        Paragraph(f"{len(results)} trials ({n_ok} ok, {len(results) - n_ok} failed): "
                  f"{distinct(results['algorithm'])} on "
                  f"{distinct(results['dataset'])}."),
        Heading(2, "Summary"),
        *answer.section(block_results, focus, rope),
        Heading(2, "Contents"),
        Contents(),
        Paragraph(METHOD.format(percent=100 * VALIDATION_FRACTION)),
        *superseded_notices(superseded, results),
        *unreadable_notices(results),
        *machines.warnings(results),
        *(Notice(problem) for problem in problems),
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
                  svg_text(cost_figure(summary, styles))),
            *ranks.section(summary),
        ]
    for block in block_results:
        blocks += block_blocks(block, styles, catalog, loader, reference_sets, rope)
    ok_names = sorted(set(results.loc[results["status"] == Status.OK, "algorithm"]))
    blocks += plugin_sections(catalog, "report", SectionContext(results, ok_names, loader),
                              "report")
    blocks += machines.section(results, runs(results))
    return blocks


def check_formats(formats: Iterable[str]) -> list[str]:
    formats = list(formats)
    unknown = [name for name in formats if name not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown report format {', '.join(map(repr, unknown)) or '(none)'}; "
                         f"expected one or more of {', '.join(FORMATS)}")
    return formats


def build_report(results: pd.DataFrame, out_dir: str | os.PathLike[str],
                 formats: Iterable[str] = FORMATS, title: str | None = None,
                 catalog: Catalog | None = None, rope: float | None = None,
                 focus: str | None = None) -> list[Path]:
    """Write ``report.html`` and/or ``report.md`` (+ its figures) into ``out_dir``;
    pairs are called practically equivalent within ±``rope`` points; the
    summary shows ``focus``'s comparisons (both default to what the runs'
    suite recorded, else ``ROPE`` and each block's leader).

    ``results`` holds result rows (``read_results`` or ``ResultStore.frame()``
    with a ``source`` column naming the folder, where artifacts are read);
    ``catalog`` provides plugins' sections and references (default: every
    installed plugin). Returns the paths written, the reports first.
    """
    formats = check_formats(formats)
    title = title or DEFAULT_TITLE
    missing = [name for name in TABLE_COLUMNS if name not in results.columns]
    if missing:
        raise ValueError(f"results lack column(s) {', '.join(missing)}")
    if results.empty:
        raise ValueError("no trials to report")
    if focus is not None:
        found = canonical(focus, results["algorithm"].unique())
        if found is None:
            raise ValueError(f"focus {focus!r}: no trial of it in these results (they "
                             f"hold {distinct(results['algorithm'])})")
        focus = found
    if rope is not None and not (isinstance(rope, int | float) and 0 <= rope < 100):
        raise ValueError(f"rope must be points between 0 and 100, got {rope!r}")
    blocks = report_blocks(results, title, catalog or load_catalog(), rope=rope,
                           focus=focus)
    images = [block for block in walk(blocks) if isinstance(block, Image)]
    names = [image.name for image in images]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"two figures share the name(s) {', '.join(repeated)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if "html" in formats:
        written.append(out_dir / "report.html")
        written[-1].write_text(render_html(blocks, title), encoding="utf-8")
    if "md" in formats:
        written.append(out_dir / "report.md")
        written[-1].write_text(render_markdown(blocks), encoding="utf-8")
        if images:
            (out_dir / FIGURES_DIR).mkdir(exist_ok=True)
        for image in images:
            written.append(out_dir / FIGURES_DIR / f"{image.name}.svg")
            written[-1].write_text(image.svg, encoding="utf-8")
    return written
