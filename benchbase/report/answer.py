"""The answer first: the summary a report opens with, one screen long.

Per dataset × protocol, one sentence: the leader, and the algorithms it is
and is not shown ahead of. Then one table of the focus algorithm (a suite's
``focus`` or ``--focus``; else the best mean over the datasets) against
every other, a column per dataset × protocol: the difference with its 95 %
interval and a reading (ahead, behind, equivalent, inconclusive), and below
it both tests (the t-test across seeds and the pooled McNemar test across
test examples, Holm-adjusted) and the equivalence posterior.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from benchbase.report import pairs
from benchbase.report.document import Block, Bullets, Paragraph, Table
from benchbase.report.stats import ALPHA
from benchbase.report.tables import count, distinct, interval, points, pvalue
from benchbase.results.summary import percent


@dataclasses.dataclass(frozen=True)
class BlockResult:
    """What the summary needs of one dataset × protocol."""

    dataset: str
    protocol: str
    rows: pd.DataFrame  # every trial of the block
    summary: pd.DataFrame  # ``section_summary``: best mean first
    comparison: pairs.BlockComparison | None  # None: no trial finished ok

    @property
    def where(self) -> str:
        return f"{self.dataset} ({self.protocol})"


@dataclasses.dataclass(frozen=True)
class Oriented:
    """A pair read from ``first``'s side: ``first`` − ``second``."""

    first: str
    second: str
    pair: pairs.Pair

    @property
    def flipped(self) -> bool:
        return self.pair.a != self.first

    def mean(self) -> float:
        mean = self.pair.seed_test.mean
        return -mean if self.flipped else mean

    def ci(self) -> tuple[float, float]:
        low, high = self.pair.seed_test.low, self.pair.seed_test.high
        return (-high, -low) if self.flipped else (low, high)

    def posterior(self) -> str:
        """P(first better) / P(equivalent) / P(second better)."""
        found = self.pair.equivalence
        if found is None:
            return "—"
        better, worse = ((found.worse, found.better) if self.flipped
                         else (found.better, found.worse))
        return f"{better:.3f}/{found.equivalent:.3f}/{worse:.3f}"

    def reading(self) -> str:
        """The comparison from ``first``'s side, in a word or two."""
        pair, found = self.pair, self.pair.equivalence
        side = "ahead" if pair.a == self.first else "behind"
        if pair.decided and pair.seed_test.n < 2:
            return f"{side} (these models, one seed)"
        if pair.decided:
            return side
        if pair.one_test_only:
            return "one test only"
        if found is None:
            return "not shown different"
        return "equivalent" if pair.equivalent else "inconclusive"

    def cell(self) -> str:
        """Δ [95 % CI] and the reading; below, both tests and the posterior."""
        low, high = self.ci()
        delta = points(self.mean()) + ("" if math.isnan(low) else f" {interval(low, high)}")
        return (f"{delta} {self.reading()}\nt {pvalue(self.pair.t_holm)} · McNemar "
                f"{pvalue(self.pair.examples_holm)} · P {self.posterior()}")


def _leading_group(block: BlockResult) -> str:
    summary, comparison = block.summary, block.comparison
    leader = summary.iloc[0]
    per_algorithm = block.rows["seed"].groupby(block.rows["algorithm"]).nunique()
    low, high = int(per_algorithm.min()), int(per_algorithm.max())
    seeds = f"{high} seed{'s' if high != 1 else ''}" if low == high else f"{low}–{high} seeds"
    head = f"{block.where}, {seeds} × {distinct(block.rows['n_test'], count)} test images: "
    best = f"{leader['algorithm']} leads ({percent(leader['test_accuracy'])} %)"
    if comparison is None or len(comparison.order) < 2:
        return head + best + "."
    standing = comparison.standing()
    if standing.get(comparison.order[0]) == pairs.BEST:
        single = [other for other in comparison.order[1:]
                  if comparison.pair(comparison.order[0], other).seed_test.n < 2]
        caveat = (f" (one seed in common with {', '.join(single)}: these trained models, "
                  "not the algorithms)" if single else "")
        return head + best + f", ahead of every other algorithm by every test{caveat}."
    tied = [name for name in comparison.order[1:] if standing.get(name) == pairs.TIED]
    behind = [name for name in comparison.order[1:] if name not in tied]
    text = head + best + (", not shown ahead of " + ", ".join(tied) if tied else "")
    if behind:
        text += "; ahead of " + ", ".join(behind)
    return text + "."


def overall_focus(blocks: list[BlockResult], focus: str | None) -> str | None:
    """``focus`` where it ran; else the algorithm with the highest mean test
    accuracy averaged over the blocks, among those that ran in the most."""
    compared = [block for block in blocks
                if block.comparison is not None and len(block.comparison.order) > 1]
    if focus and any(focus in block.comparison.order for block in compared):
        return focus
    means: dict[str, list[float]] = {}
    for block in compared:
        for name, accuracy in zip(block.summary["algorithm"], block.summary["test_accuracy"],
                                  strict=True):
            means.setdefault(name, []).append(float(accuracy))
    if not means:
        return None
    most = max(len(values) for values in means.values())
    return min((name for name, values in means.items() if len(values) == most),
               key=lambda name: (-sum(means[name]) / most, name))


def _focus_table(blocks: list[BlockResult], focus: str) -> Table:
    """A row per other algorithm, a column per block where ``focus`` ran."""
    shown = [block for block in blocks if block.comparison is not None
             and focus in block.comparison.order and len(block.comparison.order) > 1]
    others = list(dict.fromkeys(name for block in shown for name in block.comparison.order
                                if name != focus))
    columns: dict[str, list[str]] = {f"{focus} −": others}
    strong = set()
    for block in shown:
        cells = []
        for row, other in enumerate(others):
            if other not in block.comparison.order:
                cells.append("—")
                continue
            oriented = Oriented(focus, other, block.comparison.pair(focus, other))
            cells.append(oriented.cell())
            if oriented.pair.decided:
                strong.add((row, block.where))
        columns[block.where] = cells
    return Table(pd.DataFrame(columns), strong)


def section(blocks: list[BlockResult], focus: str | None, rope: float) -> list[Block]:
    """The summary: per dataset × protocol the leading group, then the focus
    algorithm against every other, block by block, and how to read it."""
    found: list[Block] = [Bullets([
        f"{block.where}: no trial finished ok." if block.comparison is None
        else _leading_group(block) for block in blocks])]
    focus = overall_focus(blocks, focus)
    if focus is None:
        return found
    found += [_focus_table(blocks, focus), Paragraph(
        f"Each cell: {focus} − the other, mean over seeds in points, [95 % t interval, "
        "not adjusted for the pairs]; ahead or behind: the t-test across seeds and the "
        f"McNemar test across test images both find it at {ALPHA:g} after Holm's "
        f"adjustment; equivalent: within ±{rope:g} points with posterior probability at "
        f"least {1 - ALPHA:g} (Bayesian correlated t-test); inconclusive: neither. Below: "
        f"each test's Holm p and P({focus} better / equivalent / worse).")]
    return found
