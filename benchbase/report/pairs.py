"""Every pair of algorithms in one dataset × protocol, compared as the
statistics in ``benchbase.report.stats`` allow, and said in plain words.

Pairing: the same seed means the same split, subset and validation split
for every algorithm, so differences are taken seed by seed; a seed whose
``subset_hash`` differs between the two algorithms is left out of the pair
(and reported). Per-example tests need both trials' artifacts.

The decision ("A is ahead of B") requires every test that can be made to
find the difference at ``ALPHA`` after Holm's adjustment across the block's
pairs: the paired t-test across seeds (training randomness) and the pooled
exact McNemar test across test examples (which images were tested). Each
ignores the noise the other sees, so a difference counts only when it
survives both (an intersection-union test). With no artifacts the t-test
decides alone; with one seed, or the same difference in every seed, McNemar
decides alone.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from benchbase.report.document import Block, Bullets, Image, Notice, Paragraph, Table
from benchbase.report.figures import difference_matrix_figure, svg_text
from benchbase.report.reading import ArtifactLoader
from benchbase.report.stats import (
    ALPHA,
    MIN_DISCORDANT_FOR_BOOTSTRAP,
    ROPE,
    Equivalence,
    ExampleComparison,
    Pooling,
    SeedComparison,
    bayesian_correlated_ttest,
    compare_examples,
    compare_seeds,
    holm,
    min_attainable_p,
)
from benchbase.report.tables import count, interval, p_is, points, pvalue
from benchbase.results.artifacts import ArtifactError

#: Standing labels. Not separated is not equivalent: the equivalence test says that.
BEST, LEADS, TIED = "best", "highest mean", "not separated from it"
#: Marks in the difference matrix.
DECIDED_MARK, ONE_TEST_MARK = "*", "†"
UNRELIABLE_MARK = " ‡"


@dataclasses.dataclass(frozen=True)
class Pair:
    """``a`` − ``b``; ``a`` precedes ``b`` in the block's order (higher mean)."""

    a: str
    b: str
    seeds: tuple[int, ...]
    unpaired: tuple[int, ...]  # seeds left out: their subsets differ
    seed_test: SeedComparison
    examples: ExampleComparison | None
    examples_note: str  # why the per-example tests are missing, or their caveat
    pooling: Pooling | None
    equivalence: Equivalence | None = None  # None with fewer than two seeds
    t_holm: float = math.nan
    sign_flip_holm: float = math.nan
    examples_holm: float = math.nan

    @property
    def across_seeds(self) -> bool | None:
        """Significant across seeds after Holm; None where no t-test exists."""
        return None if math.isnan(self.t_holm) else bool(self.t_holm < ALPHA)

    @property
    def across_examples(self) -> bool | None:
        return None if math.isnan(self.examples_holm) else bool(self.examples_holm < ALPHA)

    @property
    def decided(self) -> bool:
        """Every test that could be made finds the difference."""
        known = [x for x in (self.across_seeds, self.across_examples) if x is not None]
        return bool(known) and all(known)

    @property
    def one_test_only(self) -> bool:
        known = [x for x in (self.across_seeds, self.across_examples) if x is not None]
        return len(known) == 2 and sum(known) == 1

    @property
    def equivalent(self) -> bool:
        """Within the ROPE with posterior probability at least 1 − ALPHA."""
        return self.equivalence is not None and self.equivalence.equivalent >= 1 - ALPHA


@dataclasses.dataclass
class BlockComparison:
    order: list[str]
    pairs: list[Pair]
    artifacts_missing: str  # the loader's explanation, "" when every trial has them

    def pair(self, a: str, b: str) -> Pair:
        for pair in self.pairs:
            if {pair.a, pair.b} == {a, b}:
                return pair
        raise KeyError((a, b))

    def standing(self) -> dict[str, str]:
        """The leader is "best" when it is ahead of every other algorithm;
        otherwise it "leads" with the highest mean, and everything not shown to be
        behind it is "not separated from it" (which is not "equivalent")."""
        if len(self.order) < 2:
            return {}
        leader, others = self.order[0], self.order[1:]
        if all(self.pair(leader, other).decided for other in others):
            return {leader: BEST}
        return {leader: LEADS, **{other: TIED for other in others
                                 if not self.pair(leader, other).decided}}

    @property
    def n_seeds(self) -> int:
        return max((len(pair.seeds) for pair in self.pairs), default=0)

    @property
    def has_examples(self) -> bool:
        return any(pair.examples is not None for pair in self.pairs)


def _by_seed(rows: pd.DataFrame, algorithm: str) -> dict[int, dict]:
    return {int(row["seed"]): row for row in
            rows[rows["algorithm"] == algorithm].to_dict("records")}


def pooling_of(a_rows: list[dict], y_tests: list[np.ndarray]) -> Pooling:
    """SHARED when every seed tested the same examples."""
    hashes = {row["subset_hash"] for row in a_rows}
    same_labels = all(np.array_equal(y_tests[0], y) for y in y_tests[1:])
    same_subsets = len(hashes) == 1 or "" in hashes  # unknown: trust the labels
    return Pooling.SHARED if same_labels and same_subsets else Pooling.DRAWN


def _examples(a_rows: list[dict], b_rows: list[dict], loader: ArtifactLoader,
              intervals: bool) -> tuple[ExampleComparison | None, str, Pooling | None]:
    try:
        a_arrays = [loader.load(row) for row in a_rows]
        b_arrays = [loader.load(row) for row in b_rows]
    except ArtifactError as exc:
        return None, f"per-example tests need both trials' artifacts: {exc}", None
    for row, x, y in zip(a_rows, a_arrays, b_arrays, strict=True):
        if not np.array_equal(x["y_test"], y["y_test"]):
            return None, (f"seed {row['seed']}: the two trials' test labels differ, "
                          "so their predictions cannot be paired"), None
    y_tests = [x["y_test"] for x in a_arrays]
    pooling = pooling_of(a_rows, y_tests)
    comparison = compare_examples(
        [x["y_pred"] == x["y_test"] for x in a_arrays],
        [y["y_pred"] == y["y_test"] for y in b_arrays], pooling, intervals)
    return comparison, "", pooling


def compare_pair(rows: pd.DataFrame, a: str, b: str, loader: ArtifactLoader,
                 intervals: bool = True, rope: float = ROPE) -> Pair:
    """The unadjusted comparison of ``a`` − ``b`` over their common seeds
    (``intervals=False``: without the per-example bootstrap interval), and
    the posterior probabilities about the region of practical equivalence
    ±``rope`` points (ρ = 0: see ``bayesian_correlated_ttest``)."""
    by_a, by_b = _by_seed(rows, a), _by_seed(rows, b)
    seeds, unpaired = [], []
    for seed in sorted(set(by_a) & set(by_b)):
        hashes = (by_a[seed]["subset_hash"], by_b[seed]["subset_hash"])
        (unpaired if all(hashes) and hashes[0] != hashes[1] else seeds).append(seed)
    differences = [100 * (by_a[s]["test_accuracy"] - by_b[s]["test_accuracy"])
                   for s in seeds]
    examples, note, pooling = (None, "no seed in common", None)
    if seeds:
        examples, note, pooling = _examples([by_a[s] for s in seeds],
                                            [by_b[s] for s in seeds], loader, intervals)
    return Pair(a, b, tuple(seeds), tuple(unpaired), compare_seeds(differences),
                examples, note, pooling, bayesian_correlated_ttest(differences, rope))


def compare_block(ok: pd.DataFrame, order: Sequence[str], loader: ArtifactLoader,
                  intervals: bool = True, rope: float = ROPE) -> BlockComparison:
    """Every pair of ``order`` (the block's algorithms, best mean first),
    Holm-adjusted across the pairs, test by test (``intervals``: see
    ``compare_pair``; the tests and the standing do not need them)."""
    pairs = [compare_pair(ok, a, b, loader, intervals, rope)
             for index, a in enumerate(order) for b in order[index + 1:]]
    t_holm = holm([p.seed_test.t_pvalue for p in pairs])
    sign_flip_holm = holm([p.seed_test.sign_flip_pvalue for p in pairs])
    examples_holm = holm([p.examples.pvalue if p.examples else math.nan for p in pairs])
    pairs = [dataclasses.replace(p, t_holm=t, sign_flip_holm=s, examples_holm=e)
             for p, t, s, e in zip(pairs, t_holm, sign_flip_holm, examples_holm,
                                   strict=True)]
    return BlockComparison(list(order), pairs, loader.explain(ok))


# ---------------------------------------------------------------- words


def _conclusion(pair: Pair) -> str:
    if pair.decided and pair.seed_test.n < 2:  # one seed: McNemar alone
        return (f"these {pair.a} models beat these {pair.b} models on these test "
                "examples; with one seed that says nothing about the algorithms' "
                "training randomness")
    if pair.decided:
        return f"{pair.a} is ahead"
    if pair.one_test_only and pair.across_examples:
        return (f"these {pair.a} models beat these {pair.b} models on these test "
                "examples, but across seeds the difference is not significant after "
                f"adjustment: not established that {pair.a} is the better algorithm")
    if pair.one_test_only:
        return ("consistent across seeds, but not distinguishable from test-set noise: "
                "not established")
    if pair.equivalent:
        return (f"practically equivalent (within ±{pair.equivalence.rope:g} points with "
                f"probability {pair.equivalence.equivalent:.3f})")
    return "not significant after Holm's adjustment, nor shown equivalent"


def _equivalence_words(pair: Pair) -> str:
    found = pair.equivalence
    if found is None:
        return ""
    return (f"; Bayesian correlated t-test, ROPE ±{found.rope:g} points: "
            f"P({pair.a} better) {found.better:.3f}, P(equivalent) {found.equivalent:.3f}, "
            f"P({pair.b} better) {found.worse:.3f}")


def sentence(pair: Pair) -> str:
    """One pair in plain words, e.g. "DDAE − AE: +0.30 points [−0.40, +1.00] ..."."""
    seeds = pair.seed_test
    text = f"{pair.a} − {pair.b}: {points(seeds.mean)} points"
    if not math.isnan(seeds.low):
        text += (f" {interval(seeds.low, seeds.high)} over {seeds.n} seeds, "
                 f"{p_is(seeds.t_pvalue)} (t-test; Holm {pvalue(pair.t_holm)})")
    else:
        text += f" over {seeds.n} seed{'s' if seeds.n != 1 else ''} ({seeds.note})"
    if pair.examples is not None:
        ex = pair.examples
        text += (f"; per test example, McNemar {p_is(ex.pvalue)} "
                 f"(Holm {pvalue(pair.examples_holm)}), bootstrap "
                 f"{interval(ex.low, ex.high)}")
        if not ex.bootstrap_reliable:
            text += f" (unreliable: {ex.a_ahead + ex.b_ahead} discordant)"
    text += _equivalence_words(pair)
    if pair.unpaired:
        text += (f"; seed(s) {', '.join(map(str, pair.unpaired))} left out: "
                 "different subsets")
    return f"{text}: {_conclusion(pair)}."


# ---------------------------------------------------------------- tables, figure


def seeds_table(block: BlockComparison) -> Table:
    frame = pd.DataFrame({
        "pair": [f"{p.a} − {p.b}" for p in block.pairs],
        "seeds": [str(len(p.seeds)) for p in block.pairs],
        "Δ test points": [points(p.seed_test.mean) for p in block.pairs],
        "95 % CI (t)": [interval(p.seed_test.low, p.seed_test.high) for p in block.pairs],
        "p (t-test)": [pvalue(p.seed_test.t_pvalue) for p in block.pairs],
        "Holm (t)": [pvalue(p.t_holm) for p in block.pairs],
        "p (sign-flip)": [pvalue(p.seed_test.sign_flip_pvalue) for p in block.pairs],
        "Holm (sign-flip)": [pvalue(p.sign_flip_holm) for p in block.pairs],
        "P(first / ROPE / second)": [_posterior_cell(p) for p in block.pairs],
        "verdict": [_verdict(p) for p in block.pairs],
    })
    strong = {(row, "verdict") for row, p in enumerate(block.pairs) if p.decided}
    return Table(frame, strong, right=tuple(frame.columns[1:-1]))


def _posterior_cell(pair: Pair) -> str:
    """The Bayesian correlated t-test's three probabilities: the first better,
    within the ROPE, the second better."""
    found = pair.equivalence
    if found is None:
        return "—"
    return f"{found.better:.3f} / {found.equivalent:.3f} / {found.worse:.3f}"


def _verdict(pair: Pair) -> str:
    if pair.decided:
        return f"{pair.a} ahead"
    if pair.one_test_only:
        return "one test only"
    if pair.equivalent:
        return "equivalent"
    return "not significant"


def examples_table(block: BlockComparison) -> Table:
    pairs = [p for p in block.pairs if p.examples is not None]
    frame = pd.DataFrame({
        "pair": [f"{p.a} − {p.b}" for p in pairs],
        "units": [count(p.examples.units) for p in pairs],
        "first ahead": [count(p.examples.a_ahead) for p in pairs],
        "second ahead": [count(p.examples.b_ahead) for p in pairs],
        "McNemar p per seed": [", ".join(pvalue(seed[2]) for seed in p.examples.per_seed)
                               for p in pairs],
        "pooled p": [pvalue(p.examples.pvalue) for p in pairs],
        "Holm (pooled)": [pvalue(p.examples_holm) for p in pairs],
        "bootstrap 95 % CI": [interval(p.examples.low, p.examples.high)
                              + (" (percentile)" if p.examples.bootstrap_method
                                 == "percentile" else "")
                              + ("" if p.examples.bootstrap_reliable else UNRELIABLE_MARK)
                              for p in pairs],
    })
    return Table(frame, right=tuple(frame.columns[1:]))


def difference_figure(block: BlockComparison) -> Image | None:
    if len(block.order) < 2:
        return None
    difference = pd.DataFrame(0.0, index=block.order, columns=block.order)
    labels = pd.DataFrame("", index=block.order, columns=block.order)
    for pair in block.pairs:
        mark = DECIDED_MARK if pair.decided else ONE_TEST_MARK if pair.one_test_only else ""
        for a, b, sign in ((pair.a, pair.b, 1), (pair.b, pair.a, -1)):
            difference.loc[a, b] = sign * pair.seed_test.mean
            labels.loc[a, b] = points(sign * pair.seed_test.mean) + mark
    return Image("", "", svg_text(difference_matrix_figure(block.order, difference, labels)))


# ---------------------------------------------------------------- the section


def _method(block: BlockComparison) -> str:
    n = block.n_seeds
    pooling = {p.pooling for p in block.pairs if p.pooling is not None}
    text = (
        f"Every pair, paired by seed ({n} seed{'s' if n != 1 else ''}). Across seeds: "
        "the mean difference in test accuracy (points) with its 95 % t interval and "
        "the paired t-test, which assume normally distributed differences; and the "
        "exact sign-flip permutation test, which does not, but whose p-value cannot "
        f"go below {pvalue(_min_p(block))} with {n} seeds (2/2^n): it can reach "
        f"{ALPHA:g} only from {seeds_needed()} seeds on (before any adjustment). ")
    if block.has_examples:
        text += (
            "Across test examples (the trials' stored predictions): the exact McNemar "
            "test per seed (binomial test on the discordant examples), pooled over the "
            "seeds, and a 95 % bootstrap interval (BCa, 9,999 resamples, fixed seed; "
            "percentile, and marked so, where BCa is undefined) of the accuracy "
            "difference. ")
        if Pooling.SHARED in pooling:
            text += ("The seeds share one test set, so an example counts once: pooled, "
                     "the test counts the examples where the first algorithm was right in "
                     "more seeds than the second and vice versa, and the bootstrap "
                     "resamples examples. ")
        if Pooling.DRAWN in pooling:
            text += ("Each seed drew its own test subset: pooled, the discordant "
                     "examples of every seed are summed (a stratified McNemar test) and "
                     "the bootstrap resamples each seed's examples separately, which "
                     "treats the subsets as independent (random subsets of one test "
                     "pool overlap: two draws of m from a pool of N share about m²/N "
                     "images, a tenth for 1,000 of 10,000, which makes the pooled p "
                     "somewhat too small). ")
    text += (
        f"p-values are Holm-adjusted across the {len(block.pairs)} pairs, test by test. "
        f"A pair counts as different when every test that could be made (t-test across "
        f"seeds, pooled McNemar across examples) finds it at {ALPHA:g} after adjustment: "
        "each ignores the noise the other sees. Not significant is not the same as "
        "equivalent: the Bayesian correlated t-test (Benavoli, Corani, Demšar, Zaffalon, "
        "JMLR 2017; flat prior, correlation 0 between seeds) gives the posterior "
        "probabilities that the first algorithm is better by more than the region of "
        f"practical equivalence (ROPE, ±{_rope(block):g} points), that the two are within "
        "it, and that the second is better; a pair is called equivalent where the middle "
        f"one reaches {1 - ALPHA:g}. Where the seeds share one test set, these "
        "probabilities are about that test set.")
    return text


def _rope(block: BlockComparison) -> float:
    return next((p.equivalence.rope for p in block.pairs if p.equivalence), ROPE)


def seeds_needed(alpha: float = ALPHA) -> int:
    """The fewest seeds with which the sign-flip test can give p < ``alpha``."""
    return next(n for n in range(1, 64) if min_attainable_p(n) < alpha)


def _min_p(block: BlockComparison) -> float:
    return next((p.seed_test.min_attainable_p for p in block.pairs
                 if len(p.seeds) == block.n_seeds), 1.0)


def section(block: BlockComparison, slug: str, dataset: str, protocol: str) -> list[Block]:
    """The block's pairwise comparisons: method, matrix, tables, sentences."""
    if len(block.order) < 2:
        return [Paragraph("One algorithm: nothing to compare.")]
    blocks: list[Block] = [Paragraph(_method(block))]
    if block.artifacts_missing:
        blocks.append(Notice(f"Per-example tests are missing where trials have no "
                             f"artifacts: {block.artifacts_missing}."))
    figure = difference_figure(block)
    if figure is not None:
        figure.name = f"{slug}-differences"
        figure.alt = (f"Mean test accuracy difference, row − column, {dataset} ({protocol}); "
                      f"{DECIDED_MARK}: a difference by the rule above; {ONE_TEST_MARK}: "
                      "found by one of the two tests only.")
        blocks.append(figure)
    blocks += [Paragraph("Across seeds:"), seeds_table(block)]
    if block.has_examples:
        blocks += [Paragraph("Across test examples (first − second algorithm of the pair; "
                             "units: examples, or seed × example when each seed drew its "
                             "own test subset; first/second ahead: units where that "
                             f"algorithm was right more often).{UNRELIABLE_MARK}: fewer "
                             f"than {MIN_DISCORDANT_FOR_BOOTSTRAP} discordant units, too "
                             "few for a bootstrap interval to be trusted (it comes out "
                             "too narrow); the exact test alone speaks."),
                   examples_table(block)]
    blocks.append(Bullets([sentence(pair) for pair in block.pairs]))
    return blocks
