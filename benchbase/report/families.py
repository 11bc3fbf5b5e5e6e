"""The families compared: per dataset × protocol, each family's best member
(chosen on validation accuracy, never on test) against the others'.

The comparison is the block's own (``benchbase.report.pairs``): the paired
t-test across seeds and the pooled McNemar test across test examples,
Holm-adjusted over the families' pairs, a difference counting only when
every test that can be made finds it. One sentence says which family is
ahead, or that none is shown ahead.
"""

from __future__ import annotations

import math

import pandas as pd

from benchbase.report import pairs
from benchbase.report.document import Block, Paragraph, Table
from benchbase.report.reading import ArtifactLoader
from benchbase.report.stats import ALPHA, ROPE
from benchbase.report.tables import dash_if_missing, integer
from benchbase.results.summary import percent


def family_leaders(ok: pd.DataFrame) -> pd.DataFrame:
    """One row per family: its member with the highest mean validation
    accuracy over its ok seeds (ties and members with nothing chosen on
    validation rank by name, after those with a score), with its means."""
    means = (ok.groupby(["family", "algorithm"], sort=True)
             .agg(val_accuracy=("val_accuracy", "mean"),
                  test_accuracy=("test_accuracy", "mean"),
                  seeds=("seed", "nunique"))
             .reset_index())
    means["has_val"] = means["val_accuracy"].notna()
    ranked = means.sort_values(["family", "has_val", "val_accuracy", "algorithm"],
                               ascending=[True, False, False, True], kind="stable")
    leaders = ranked.groupby("family", sort=True).head(1)
    return leaders.sort_values(["test_accuracy", "family"], ascending=[False, True],
                               kind="stable").reset_index(drop=True)


def verdict(leaders: pd.DataFrame, comparison: pairs.BlockComparison, where: str) -> str:
    """One sentence: which family is ahead, or that none is shown ahead."""
    families = dict(zip(leaders["algorithm"], leaders["family"], strict=True))
    first = comparison.order[0]
    ahead_of = [other for other in comparison.order[1:]
                if comparison.pair(first, other).decided]
    named = [f"{families[name]} ({name})" for name in comparison.order]
    if len(ahead_of) == len(comparison.order) - 1:
        others = ", ".join(named[1:])
        text = (f"On {where}, the {named[0]} family is ahead of the {others} "
                f"{'family' if len(named) == 2 else 'families'}, by every test that "
                f"could be made (Holm-adjusted, {ALPHA:g})")
        if min(len(comparison.pair(first, other).seeds) for other in ahead_of) < 2:
            # No test across seeds: the per-example test speaks of these models.
            text += (": with one seed in common, only the per-example test, so these "
                     f"{first} models beat these models on these test images; not "
                     "established for the algorithms")
        return text + "."
    if ahead_of:
        behind = ", ".join(f"{families[name]} ({name})" for name in ahead_of)
        return (f"On {where}, the {named[0]} family has the highest mean and is ahead "
                f"of {behind}, but not of every other family.")
    return (f"On {where}, neither family is shown ahead: the {named[0]} family has the "
            f"highest mean, and no test separates it from "
            f"{', '.join(named[1:])} at {ALPHA:g} after Holm.")


def section(ok: pd.DataFrame, loader: ArtifactLoader, where: str, rope: float = ROPE
            ) -> list[Block]:
    """The block's family view; nothing with fewer than two families."""
    if ok["family"].nunique() < 2:
        return []
    leaders = family_leaders(ok)
    order = list(leaders["algorithm"])
    comparison = pairs.compare_block(ok[ok["algorithm"].isin(order)], order, loader,
                                     rope=rope)
    against = []
    for name in order:
        pair = None if name == order[0] else comparison.pair(order[0], name)
        against.append("—" if pair is None else _tests(pair))
    frame = pd.DataFrame({
        "family": leaders["family"],
        "best on validation": leaders["algorithm"],
        "validation %": leaders["val_accuracy"].map(lambda v: dash_if_missing(v, percent)),
        "test %": leaders["test_accuracy"].map(percent),
        "seeds": leaders["seeds"].map(integer),
        f"against {order[0]}: Holm p (seeds; examples)": against,
    })
    return [
        Paragraph(verdict(leaders, comparison, where)),
        Table(frame, right=("validation %", "test %", "seeds")),
        Paragraph("Each family's member with the highest mean validation accuracy (the "
                  "test set plays no part in choosing it), compared as in Paired "
                  "comparisons but only among these."),
    ]


def _tests(pair: pairs.Pair) -> str:
    def p(value: float) -> str:
        return "—" if math.isnan(value) else f"{value:.3g}"

    mark = " (ahead)" if pair.decided else ""
    return f"{p(pair.t_holm)}; {p(pair.examples_holm)}{mark}"
