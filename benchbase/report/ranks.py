"""Algorithms across datasets (Demšar 2006): average ranks, Friedman's test,
and the critical-difference diagram of Nemenyi's test.

A block is one dataset × protocol; an algorithm's rank in a block comes from
its mean test accuracy over seeds (1 = best, ties share the average rank).
Only the algorithms present in every block are ranked. scikit-posthocs and
autorank are not needed: Nemenyi's critical difference is one formula on
scipy's studentized range, and Friedman's permutation p-value is scipy's
``permutation_test``.
"""

from __future__ import annotations

import pandas as pd

from benchbase.report.document import Block, Details, Heading, Image, Paragraph, Table
from benchbase.report.figures import cd_diagram_figure, svg_text
from benchbase.report.stats import (
    ALPHA,
    BOOTSTRAP_RESAMPLES,
    average_ranks,
    friedman,
    nemenyi_cd,
)
from benchbase.report.tables import p_is

#: Friedman's test and the diagram need this many blocks (and algorithms).
MIN_BLOCKS = 3
MIN_ALGORITHMS = 3


def accuracy_matrix(summary: pd.DataFrame) -> pd.DataFrame:
    """Blocks × algorithms mean test accuracy (%), algorithms present in every block."""
    matrix = summary.assign(block=summary["dataset"] + " (" + summary["protocol"] + ")"
                            ).pivot_table(index="block", columns="algorithm",
                                          values="test_accuracy", aggfunc="first")
    return 100 * matrix.dropna(axis=1).sort_index(axis=1)


def section(summary: pd.DataFrame) -> list[Block]:
    if summary.empty or summary.groupby(["dataset", "protocol"]).ngroups < 2:
        return []
    matrix = accuracy_matrix(summary)
    n_blocks, k = matrix.shape
    blocks: list[Block] = [Heading(2, "Across datasets")]
    if k < 2:
        return [*blocks, Paragraph("No two algorithms ran on every dataset × protocol: "
                                   "nothing to rank.")]
    ranks = pd.DataFrame(average_ranks(matrix.to_numpy()), index=matrix.index,
                         columns=matrix.columns)
    mean_rank = ranks.mean().sort_values(kind="stable")
    frame = pd.DataFrame({"algorithm": mean_rank.index,
                          "average rank": mean_rank.map("{:.2f}".format).to_numpy()})
    for block in matrix.index:
        frame[block] = [f"{ranks.loc[block, name]:g} ({matrix.loc[block, name]:.2f} %)"
                        for name in mean_rank.index]
    blocks += [Paragraph(f"Ranks by mean test accuracy in each of the {n_blocks} "
                         f"dataset × protocol blocks (1 = best; ties share the average), "
                         f"for the {k} algorithms that ran on all of them."),
               Table(frame, right=tuple(frame.columns[1:]))]
    if n_blocks < MIN_BLOCKS or k < MIN_ALGORITHMS:
        blocks.append(Paragraph(
            f"Friedman's test and the critical-difference diagram need at least "
            f"{MIN_BLOCKS} blocks with the same {MIN_ALGORITHMS} or more algorithms; "
            f"here there are {n_blocks} block(s) and {k} algorithm(s), so the ranks "
            "are shown without a test."))
        return blocks
    result = friedman(matrix.to_numpy())
    cd = nemenyi_cd(k, n_blocks)
    differ = result.permutation_pvalue < ALPHA
    how = ("exact, over every reordering of the algorithms within each block" if result.exact
           else f"{BOOTSTRAP_RESAMPLES:,} random reorderings within the blocks, seeded")
    names = list(mean_rank.index)
    apart = [f"{a}–{b}" for i, a in enumerate(names) for b in names[i + 1:]
             if mean_rank[b] - mean_rank[a] > cd]
    if not differ:
        reading = (f"Friedman's test does not find the ranks different at {ALPHA:g}; "
                   "the diagram below is a post-hoc view only.")
    elif apart:
        reading = (f"The ranks differ at {ALPHA:g}; the pairs further apart than the "
                   f"critical difference: {', '.join(apart)}.")
    else:
        reading = (f"The ranks differ at {ALPHA:g} as a whole, but no two algorithms' "
                   "average ranks are further apart than the critical difference: the "
                   f"{n_blocks} blocks cannot say which algorithms differ.")
    blocks += [
        Paragraph(
            f"Friedman's test: χ² = {result.chi2:.2f}; permutation "
            f"{p_is(result.permutation_pvalue)} ({how}); the χ² approximation, poor "
            f"with few blocks (Demšar 2006), gives {p_is(result.pvalue)}. "
            f"Nemenyi's critical difference for {k} algorithms and {n_blocks} blocks is "
            f"{cd:.2f} ranks (algorithms closer than that are joined by a line in the "
            f"diagram). {reading}"),
        Details("Critical-difference diagram (figure)", [
            Image("critical-difference", "Critical-difference diagram: average ranks "
                  "across datasets (1 = best); a thick line joins algorithms not "
                  "significantly different by Nemenyi's test",
                  svg_text(cd_diagram_figure(mean_rank, cd)))]),
    ]
    return blocks
