"""Headline tables: a results folder's answer in one table, kept in a README
by regenerating it, never by typing it.

A file carries a headline between two markers that name the results folders
(relative to the file) it is made from, and optionally an algorithm whose
every paired comparison is spelled out under the table::

    <!-- headline paper: reports/paper/results focus=DDAE -->
    ...the table (and the focus algorithm's verdicts)...
    <!-- end headline paper -->

``benchbase report FOLDERS --headline FILE`` rewrites the block whose
folders are the ones reported; ``headlines(FILE)`` lists every block, so a
test can regenerate each and compare.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pandas as pd

from benchbase.report import pairs
from benchbase.report.build import section_summary
from benchbase.report.document import Table
from benchbase.report.reading import ArtifactLoader, latest_trials, read_results
from benchbase.report.render import render_markdown
from benchbase.report.stats import ALPHA
from benchbase.report.tables import seconds
from benchbase.results.record import Status
from benchbase.results.summary import percent_pm, summarize

_BLOCK = re.compile(r"<!-- headline (?P<name>[\w.-]+): (?P<folders>[^>]*?) -->\n"
                    r"(?P<body>.*?)<!-- end headline (?P=name) -->", re.S)


@dataclasses.dataclass(frozen=True)
class Headline:
    name: str
    folders: tuple[str, ...]  # as written, relative to the file
    body: str
    focus: str | None = None

    @classmethod
    def parse(cls, match: re.Match) -> Headline:
        words = match["folders"].split()
        options = dict(word.split("=", 1) for word in words if "=" in word)
        unknown = sorted(set(options) - {"focus"})
        if unknown:
            raise ValueError(f"headline {match['name']}: unknown option(s) "
                             f"{', '.join(unknown)} (known: focus)")
        return cls(match["name"], tuple(word for word in words if "=" not in word),
                   match["body"], options.get("focus"))

    def paths(self, file: Path) -> list[Path]:
        return [file.parent / folder for folder in self.folders]


def headlines(file: str | os.PathLike[str]) -> list[Headline]:
    """Every headline block of ``file``, in order."""
    text = Path(file).read_text(encoding="utf-8")
    return [Headline.parse(match) for match in _BLOCK.finditer(text)]


def headline_markdown(results: pd.DataFrame, loader: ArtifactLoader | None = None,
                      focus: str | None = None) -> str:
    """One row per algorithm, per dataset × protocol its mean test accuracy
    (± std over seeds, bold where the paired tests put it ahead of all
    others, "≈" where it leads or is not separated from the leader) and its mean fit
    seconds; then,
    where ``focus`` names an algorithm, its every paired comparison in words."""
    loader = loader or ArtifactLoader()
    results = latest_trials(results)[0]
    summary = summarize(results)
    if summary.empty:
        return "No trial finished ok.\n"
    ok = results[results["status"] == Status.OK]
    algorithms = (summary.sort_values(["family", "algorithm"])["algorithm"]
                  .drop_duplicates().tolist())
    frame = pd.DataFrame({"algorithm": algorithms})
    strong: set[tuple[int, str]] = set()
    right = []
    verdicts = []
    for (dataset, protocol), rows in ok.groupby(["dataset", "protocol"], sort=True):
        block = section_summary(summary, dataset, protocol)
        # The standing needs the tests, not the bootstrap intervals (most of the
        # cost); the focus's sentences quote them.
        order = list(block["algorithm"])
        comparison = pairs.compare_block(rows, order, loader, intervals=focus in order)
        standing = comparison.standing()
        if focus is not None and focus in comparison.order:
            verdicts.append(f"\n{focus} on {dataset} ({protocol}):\n\n" + "".join(
                f"* {pairs.sentence(pair)}\n" for pair in comparison.pairs
                if focus in (pair.a, pair.b)))
        by_name = block.set_index("algorithm")
        fewest, most = int(by_name["trials"].min()), int(by_name["trials"].max())
        seeds = f"{fewest}–{most}" if fewest != most else str(most)
        accuracy = f"{dataset} ({protocol}), test %, {seeds} seed{'s' if most != 1 else ''}"
        fit = f"{dataset} ({protocol}), fit s"
        cells, times = [], []
        for row, name in enumerate(algorithms):
            if name not in by_name.index:
                cells.append("—")
                times.append("—")
                continue
            entry = by_name.loc[name]
            text = percent_pm(entry["test_accuracy"], entry["test_accuracy_std"],
                              entry["trials"])
            mark = standing.get(name)
            if mark == pairs.BEST:
                strong.add((row, accuracy))
            cells.append(text + (" ≈" if mark in (pairs.LEADS, pairs.TIED) else ""))
            times.append(seconds(entry["fit_seconds"]))
        frame[accuracy], frame[fit] = cells, times
        right += [accuracy, fit]
    table = render_markdown([Table(frame, strong, tuple(right))])
    return table + ("\nMean ± std over seeds (the mean alone for one seed). **Bold**: "
                    "ahead of every other algorithm by the paired tests (t-test across "
                    f"seeds and McNemar across test examples, Holm-adjusted, α = {ALPHA:g}); "
                    "≈: the highest mean, or not separated from it (not shown to be behind "
                    "it; not separated is not equivalent). Fit: wall "
                    "seconds of the final fit, mean over seeds.\n") + "".join(verdicts)


def _block_for(file: Path, text: str, folders: list[str]) -> re.Match:
    """The block of ``file`` (its ``text``) made from ``folders`` (ValueError if none)."""
    wanted = sorted(Path(folder).resolve() for folder in folders)
    for match in _BLOCK.finditer(text):
        paths = Headline.parse(match).paths(file)
        if sorted(path.resolve() for path in paths) == wanted:
            return match
    relative = " ".join(os.path.relpath(folder, file.parent) for folder in folders)
    raise ValueError(f"{file} has no headline block for {relative}; add the lines "
                     f"'<!-- headline NAME: {relative} -->' and '<!-- end headline NAME -->'")


def find_headline(file: str | os.PathLike[str], folders: list[str]) -> Headline:
    """The headline block of ``file`` made from ``folders`` (ValueError if none)."""
    file = Path(file)
    return Headline.parse(_block_for(file, file.read_text(encoding="utf-8"), folders))


def update_headline(file: str | os.PathLike[str], folders: list[str]) -> str:
    """Rewrite the headline block of ``file`` made from ``folders``; its name."""
    file = Path(file)
    text = file.read_text(encoding="utf-8")
    match = _block_for(file, text, folders)
    headline = Headline.parse(match)
    body = headline_markdown(read_results(folders), focus=headline.focus)
    start, end = match.span("body")
    file.write_text(text[:start] + body + text[end:], encoding="utf-8")
    return headline.name
