"""The report's statistics, value by value: against scipy called directly,
against exhaustive enumeration, and against published tables."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchbase.report.document import Paragraph
from benchbase.report.stats import (
    MIN_DISCORDANT_FOR_BOOTSTRAP,
    Pooling,
    average_ranks,
    bayesian_correlated_ttest,
    bootstrap_interval,
    compare_examples,
    compare_seeds,
    friedman,
    holm,
    mcnemar,
    min_attainable_p,
    nemenyi_cd,
    seeded_rng,
    sign_flip_pvalue,
)


@pytest.mark.parametrize(("pvalues", "adjusted"), [
    # Worked by hand: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 gives
    # 0.02, 0.03, 0.06, 0.04; the running maximum makes the last 0.06.
    ([0.01, 0.04, 0.03, 0.005], [0.03, 0.06, 0.06, 0.02]),
    # Capped at 1; NaN (a test not made) is neither counted nor adjusted.
    ([0.5, np.nan, 0.2], [0.5, np.nan, 0.4]),
    ([0.9, 0.8], [1.0, 1.0]),
    ([], []),
])
def test_holm_step_down_matches_values_worked_by_hand(pvalues, adjusted):
    np.testing.assert_allclose(holm(pvalues), adjusted, equal_nan=True)


def test_seed_comparison_is_scipys_paired_t_test():
    a, b = np.array([96.2, 97.3, 97.0, 95.8]), np.array([96.5, 97.0, 97.6, 96.4])
    result = compare_seeds(a - b)
    direct = stats.ttest_rel(a, b)
    interval = direct.confidence_interval(0.95)
    assert result.n == 4
    assert result.mean == pytest.approx(np.mean(a - b))
    assert result.t_pvalue == pytest.approx(direct.pvalue)
    assert (result.low, result.high) == pytest.approx((interval.low, interval.high))


def _enumerated_sign_flip_p(d):
    """Two-sided p by listing every sign pattern (the definition)."""
    observed = abs(np.mean(d))
    means = [abs(np.mean(np.array(signs) * d))
             for signs in itertools.product((1, -1), repeat=len(d))]
    return np.mean([m >= observed - 1e-12 for m in means])


@pytest.mark.parametrize("d", [[0.3, -0.3, 0.6], [1.0, 2.0, 3.0, -0.5, 0.8],
                               [0.2, 0.0, 0.4, 0.1], [-1.0, -2.0, -0.5, -0.1, -0.3, -0.2]])
def test_sign_flip_p_is_the_exact_enumeration(d):
    assert sign_flip_pvalue(d) == pytest.approx(_enumerated_sign_flip_p(np.array(d)))


@pytest.mark.parametrize("n", range(2, 9))
def test_min_attainable_p_is_two_over_two_to_the_n_and_wilcoxons_too(n):
    assert min_attainable_p(n) == pytest.approx(2.0 / 2**n)
    # The exact Wilcoxon signed-rank test has the same floor: no rank test
    # can do better with n pairs.
    floor = stats.wilcoxon(np.arange(1.0, n + 1), method="exact").pvalue
    assert min_attainable_p(n) == pytest.approx(floor)


def test_with_three_seeds_nothing_reaches_five_percent():
    assert min_attainable_p(3) == 0.25
    assert min_attainable_p(5) > 0.05 > min_attainable_p(6)


def test_seed_comparison_degenerate_cases_say_why():
    same = compare_seeds([0.5, 0.5, 0.5])
    assert np.isnan(same.t_pvalue) and "same difference" in same.note
    assert same.sign_flip_pvalue == 0.25
    zero = compare_seeds([0.0, 0.0])
    assert zero.t_pvalue == 1.0 and (zero.low, zero.high) == (0.0, 0.0)
    one = compare_seeds([1.2])
    assert np.isnan(one.low) and one.sign_flip_pvalue == 1.0 and "one seed" in one.note


def test_mcnemar_is_the_exact_binomial_test_on_discordant_pairs():
    a = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0], dtype=bool)
    b = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0], dtype=bool)
    right_a, right_b, p = mcnemar(a, b)
    assert (right_a, right_b) == (10, 2)
    # 2 · P(X ≤ 2), X ~ Bin(12, 1/2) = 2 · (1 + 12 + 66) / 4096
    assert p == pytest.approx(158 / 4096)
    assert p == pytest.approx(stats.binomtest(10, 12, 0.5).pvalue)
    assert mcnemar(a, a)[2] == 1.0  # no discordant pair: no evidence


def _correct(rng, n, accuracy):
    return rng.random(n) < accuracy


def test_shared_test_sets_count_each_example_once():
    rng = np.random.default_rng(3)
    a = [_correct(rng, 400, 0.9) for _ in range(3)]
    b = [_correct(rng, 400, 0.85) for _ in range(3)]
    result = compare_examples(a, b, Pooling.SHARED)
    summed = np.sum([x.astype(int) - y for x, y in zip(a, b, strict=True)], axis=0)
    assert result.units == 400
    assert (result.a_ahead, result.b_ahead) == (np.sum(summed > 0), np.sum(summed < 0))
    assert result.pvalue == pytest.approx(
        stats.binomtest(result.a_ahead, result.a_ahead + result.b_ahead).pvalue)
    assert result.per_seed == tuple(mcnemar(x, y) for x, y in zip(a, b, strict=True))


def test_drawn_test_sets_sum_the_seeds_discordant_pairs():
    rng = np.random.default_rng(4)
    a = [_correct(rng, 300, 0.9) for _ in range(3)]
    b = [_correct(rng, 300, 0.8) for _ in range(3)]
    result = compare_examples(a, b, Pooling.DRAWN)
    per_seed = [mcnemar(x, y) for x, y in zip(a, b, strict=True)]
    assert result.units == 900
    assert result.a_ahead == sum(s[0] for s in per_seed)
    assert result.b_ahead == sum(s[1] for s in per_seed)
    assert result.pvalue == pytest.approx(
        stats.binomtest(result.a_ahead, result.a_ahead + result.b_ahead).pvalue)


def test_one_seed_pooled_is_mcnemar_itself():
    rng = np.random.default_rng(5)
    a, b = _correct(rng, 200, 0.9), _correct(rng, 200, 0.8)
    for pooling in Pooling:
        assert compare_examples([a], [b], pooling).pvalue == mcnemar(a, b)[2]


def test_bootstrap_is_scipys_with_a_fixed_seed_and_repeats_exactly():
    rng = np.random.default_rng(6)
    samples = [(_correct(rng, 250, 0.9).astype(float) - _correct(rng, 250, 0.8))
               for _ in range(2)]
    low, high, method = bootstrap_interval(samples)
    assert method == "BCa"
    direct = stats.bootstrap(
        samples, lambda *s, axis=-1: np.mean([np.mean(x, axis=axis) for x in s], axis=0),
        n_resamples=9999, method="BCa", vectorized=True, batch=200, **seeded_rng())
    assert (low, high) == pytest.approx((100 * direct.confidence_interval.low,
                                         100 * direct.confidence_interval.high))
    assert bootstrap_interval(samples) == (low, high, method)
    point = 100 * np.mean([s.mean() for s in samples])
    assert low < point < high


def test_a_bootstrap_with_few_discordant_examples_is_flagged():
    a = np.zeros(300, dtype=bool)
    b = a.copy()
    a[:3] = True  # three examples only A gets right, none the other way
    result = compare_examples([a], [b], Pooling.SHARED)
    assert result.a_ahead + result.b_ahead < MIN_DISCORDANT_FOR_BOOTSTRAP
    assert not result.bootstrap_reliable
    assert result.pvalue == 0.25  # the exact test cannot tell
    assert result.low > 0  # while the bootstrap, too narrow, would


def test_no_variation_needs_no_resampling():
    same = [np.ones(50)]
    assert bootstrap_interval(same) == (100.0, 100.0, "none needed (no variation)")


def test_friedman_is_scipys_with_an_exact_permutation_p():
    rng = np.random.default_rng(7)
    accuracy = rng.random((4, 3))
    result = friedman(accuracy)
    direct = stats.friedmanchisquare(*accuracy.T)
    assert result.chi2 == pytest.approx(direct.statistic)
    assert result.pvalue == pytest.approx(direct.pvalue)
    # (3!)^4 = 1296 orderings within the blocks: listed here one by one.
    assert result.exact
    null = [stats.friedmanchisquare(*np.array(
        [block[list(order)] for block, order in zip(accuracy, orders, strict=True)]).T
        ).statistic for orders in itertools.product(itertools.permutations(range(3)),
                                                    repeat=4)]
    assert result.permutation_pvalue == pytest.approx(
        np.mean(np.array(null) >= direct.statistic - 1e-9))


def test_friedman_when_every_block_agrees():
    # Four blocks ranking three algorithms alike: 6 of 6^4 orderings are as
    # extreme (the chi-squared approximation says 0.018, far from it).
    accuracy = np.array([[0.9, 0.8, 0.7]] * 4) + np.arange(4)[:, None] / 100
    result = friedman(accuracy)
    assert result.permutation_pvalue == pytest.approx(6 / 6**4)
    assert result.pvalue == pytest.approx(stats.chi2.sf(8.0, 2))


def test_ranks_average_ties_and_rank_one_is_best():
    ranks = average_ranks(np.array([[0.9, 0.8, 0.8], [0.7, 0.9, 0.8]]))
    np.testing.assert_array_equal(ranks, [[1, 2.5, 2.5], [3, 1, 2]])


# Demšar (2006), Table 5(a): critical values q_0.05 of the two-tailed Nemenyi test.
DEMSAR_Q05 = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031,
              9: 3.102, 10: 3.164}


@pytest.mark.parametrize(("k", "q"), DEMSAR_Q05.items())
def test_nemenyi_critical_difference_uses_demsars_q(k, q):
    n_blocks = 14
    assert nemenyi_cd(k, n_blocks) == pytest.approx(q * np.sqrt(k * (k + 1) / (6 * n_blocks)),
                                                    abs=2e-3)


def test_nemenyi_cd_of_demsars_worked_example():
    # Demšar (2006), section 3.2.2: four algorithms on 14 data sets, CD = 1.25.
    assert nemenyi_cd(4, 14) == pytest.approx(1.25, abs=0.005)


def test_differences_equal_up_to_rounding_are_one_difference_not_a_spread():
    # Log ratios of three trials that all got 1.5x slower differ in their last
    # bits (how a CPU's log rounds); no t-test should see a spread in that.
    before = np.array([0.5, 1.5, 2.5])
    differences = np.log(1.5 * before) - np.log(before)
    result = compare_seeds(differences)
    assert result.note == "the same difference in every seed: the t-test is undefined"
    assert math.isnan(result.t_pvalue) and result.mean == pytest.approx(math.log(1.5))


#: A worked example computed independently: baycomp 1.0.3,
#: ``CorrelatedTTest.probs(x, np.zeros(10), rope=0.2, runs=1)`` (10 folds of one
#: run: ρ = 1/10), which returns P(x better), P(equivalent), P(zeros better).
BAYCOMP_X = [0.3, -0.1, 0.25, 0.4, 0.05, 0.2, -0.05, 0.35, 0.1, 0.15]
BAYCOMP_PROBS = (0.32931240575348825, 0.6701756309766844, 0.0005119632698273868)


def test_the_bayesian_correlated_ttest_matches_baycomp():
    found = bayesian_correlated_ttest(BAYCOMP_X, rope=0.2, rho=0.1)
    assert (found.better, found.equivalent, found.worse) == pytest.approx(BAYCOMP_PROBS,
                                                                           abs=1e-12)


def test_with_rho_0_the_posterior_tails_are_the_one_sided_t_tests():
    # Flat prior, independent differences: P(mean > r) is one minus the p-value of
    # the one-sided t-test of "mean > r" (scipy), and likewise below -r.
    found = bayesian_correlated_ttest(BAYCOMP_X, rope=0.2)
    above = 1 - stats.ttest_1samp(BAYCOMP_X, 0.2, alternative="greater").pvalue
    below = 1 - stats.ttest_1samp(BAYCOMP_X, -0.2, alternative="less").pvalue
    assert found.better == pytest.approx(above, abs=1e-12)
    assert found.worse == pytest.approx(below, abs=1e-12)
    assert found.better + found.equivalent + found.worse == pytest.approx(1.0)


@pytest.mark.parametrize(("differences", "expected"), [
    ([0.1, 0.1, 0.1], (0.0, 1.0, 0.0)),   # the same difference every seed, inside
    ([0.5, 0.5], (1.0, 0.0, 0.0)),        # outside, above
    ([0.0, 0.0, 0.0], (0.0, 1.0, 0.0)),   # the same predictions
])
def test_no_spread_puts_all_the_posterior_on_the_mean(differences, expected):
    found = bayesian_correlated_ttest(differences, rope=0.2)
    assert (found.better, found.equivalent, found.worse) == expected


def test_one_seed_gives_no_posterior_and_rho_must_be_below_1():
    assert bayesian_correlated_ttest([0.3]) is None
    with pytest.raises(ValueError, match="rho must be in"):
        bayesian_correlated_ttest([0.1, 0.2], rho=1.0)


def _pair(differences):
    from benchbase.report.pairs import Pair

    return Pair("A", "B", tuple(range(len(differences))), (), compare_seeds(differences),
                None, "", None, bayesian_correlated_ttest(differences), t_holm=1.0)


def test_a_pair_within_the_rope_is_called_equivalent_and_not_significant_is_said_so():
    from benchbase.report.pairs import sentence

    close = sentence(_pair([0.05, -0.02, 0.03, 0.0, 0.01, -0.03, 0.04, 0.02, 0.0, 0.01]))
    assert "Bayesian correlated t-test, ROPE ±0.2 points: P(A better) 0.000, " \
           "P(equivalent) 1.000, P(B better) 0.000" in close
    assert close.endswith(": practically equivalent (within ±0.2 points with "
                          "probability 1.000).")
    spread = sentence(_pair([0.9, -0.7, 0.5, -0.4, 0.6]))
    assert spread.endswith(": not significant after Holm's adjustment, nor shown "
                           "equivalent.")
    assert "no evidence" not in close + spread


def test_ranks_that_differ_as_a_whole_but_no_pair_beyond_the_cd_say_so():
    from benchbase.report import ranks

    # Four blocks, four algorithms: Friedman's test finds the ranks different,
    # yet no two average ranks are further apart than Nemenyi's CD.
    accuracy = [[0.0, 1.8, 3.6, 5.4], [3.0, 1.8, 3.6, 2.4], [0.0, 2.8, 4.6, 3.4],
                [1.0, 0.8, 4.6, 4.4]]
    assert friedman(np.array(accuracy)).permutation_pvalue < 0.05
    mean_ranks = average_ranks(np.array(accuracy)).mean(axis=0)
    assert np.ptp(mean_ranks) <= nemenyi_cd(4, 4)
    summary = pd.DataFrame([
        {"dataset": f"d{block}", "protocol": "official", "algorithm": name,
         "test_accuracy": (90 + value) / 100}
        for block, values in enumerate(accuracy)
        for name, value in zip("ABCD", values, strict=True)])
    text = " ".join(block.text for block in ranks.section(summary)
                    if isinstance(block, Paragraph))
    assert "The ranks differ at 0.05 as a whole, but no two algorithms' average ranks " \
           "are further apart than the critical difference" in text
