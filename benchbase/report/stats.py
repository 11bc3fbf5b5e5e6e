"""The report's statistics on plain arrays. Every distribution is scipy's.

Two sources of noise separate two algorithms' accuracies, and each test here
sees one of them:

* **across seeds** (training randomness: initialisation, validation split,
  and under a random-subset protocol the subsets): the per-seed differences
  in test accuracy, paired by seed. ``compare_seeds`` gives their mean with a
  t interval, the paired t-test and the exact sign-flip permutation test;
* **across test examples** (which images happened to be in the test set):
  the per-example predictions. ``mcnemar`` is the exact McNemar test of one
  seed; ``pooled_mcnemar`` and ``bootstrap_interval`` combine the seeds
  without counting an example twice (see ``Pooling``).

Holm's step-down adjustment (``holm``) is arithmetic on p-values, not a
distribution, so it is written here; ``friedman`` and ``nemenyi_cd`` compare
algorithms across datasets (Demšar 2006), Friedman's test with a
permutation p-value, since the chi-squared approximation needs many blocks.
Nothing here draws a random number without a fixed seed: the same data give
the same output.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import math
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats

from benchbase.paired import ROPE, mcnemar, sign_test

#: Significance level of every decision in a report.
ALPHA = 0.05
CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 9999
#: Below this many discordant units a bootstrap interval of the difference is
#: too narrow to trust (with none in one direction it excludes 0 from about 4
#: on, where the exact test needs 6): the exact test speaks alone.
MIN_DISCORDANT_FOR_BOOTSTRAP = 10
#: Fixed, so that a report is reproducible to the byte.
RANDOM_SEED = 0
#: Up to this many seeds every sign pattern is enumerated (2**16); beyond,
#: 9999 random ones (seeded).
EXACT_SIGN_FLIPS_UP_TO = 16
# scipy 1.15 renamed ``random_state`` to ``rng`` (and will retire the old name).
_RNG_KEYWORD = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters \
    else "random_state"


def seeded_rng() -> dict[str, np.random.Generator]:
    """scipy's random-generator keyword argument, seeded with ``RANDOM_SEED``."""
    return {_RNG_KEYWORD: np.random.default_rng(RANDOM_SEED)}


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the given order.

    The i-th smallest of m p-values becomes max over j <= i of (m - j + 1)·p_(j),
    capped at 1. NaN (a test that could not be done) stays NaN and does not
    count in m.
    """
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    finite = np.flatnonzero(~np.isnan(p))
    running = 0.0
    for rank, index in enumerate(finite[np.argsort(p[finite], kind="stable")]):
        running = max(running, (len(finite) - rank) * p[index])
        adjusted[index] = min(1.0, running)
    return adjusted


def _mean(sample: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(sample, axis=axis)


def sign_flip_pvalue(differences: Sequence[float]) -> float:
    """Two-sided exact permutation test that paired differences centre on 0.

    Under the null every difference is as likely positive as negative, so
    the test statistic (the mean) is compared with its value under every
    pattern of signs (scipy's ``permutation_test``, one sample). Chosen over
    Wilcoxon's signed-rank test because it tests the mean the t interval
    estimates, and because zero differences (two algorithms with the same
    accuracy on a seed, common on small test sets) need no convention; with n
    pairs both have the same floor, ``min_attainable_p(n)``.
    """
    d = np.asarray(differences, dtype=float)
    if len(d) < 2 or not np.any(d):  # one difference: its mirror is as extreme
        return 1.0
    exact = len(d) <= EXACT_SIGN_FLIPS_UP_TO
    result = stats.permutation_test(
        (d,), _mean, permutation_type="samples", vectorized=True,
        n_resamples=np.inf if exact else BOOTSTRAP_RESAMPLES, alternative="two-sided",
        **seeded_rng())
    return float(result.pvalue)


def min_attainable_p(n: int) -> float:
    """The smallest p the sign-flip test can give with ``n`` paired seeds
    (all differences of one sign): 2 / 2**n. Computed by the test itself."""
    return sign_flip_pvalue(np.arange(1.0, n + 1)) if n else 1.0


@dataclasses.dataclass(frozen=True)
class Equivalence:
    """Posterior probabilities that A − B lies above ``rope``, within ±``rope``,
    below −``rope`` (points): the Bayesian correlated t-test."""

    better: float
    equivalent: float
    worse: float
    rope: float
    rho: float


def bayesian_correlated_ttest(differences: Sequence[float], rope: float = ROPE,
                              rho: float = 0.0) -> Equivalence | None:
    """The Bayesian correlated t-test (Corani and Benavoli 2015; Benavoli,
    Corani, Demšar, Zaffalon, JMLR 18(77), 2017) on paired differences A − B.

    Under its flat prior the mean difference's posterior is Student's t with
    n − 1 degrees of freedom, centred on the mean, with scale²
    (1/n + ρ/(1 − ρ)) s² (s² the sample variance). ρ is the correlation between
    the differences: 0 where each seed draws its own training and test data
    (benchbase's random-subset protocols), and, where the seeds share one test
    set, 0 too, with the probabilities then about that test set (the spread
    is the training's randomness only). None with fewer than two seeds; where
    every difference is the same, the posterior is that value.
    """
    d = np.asarray(differences, dtype=float)
    if len(d) < 2:
        return None
    if not 0.0 <= rho < 1.0:
        raise ValueError(f"rho must be in [0, 1), got {rho!r}")
    mean = float(d.mean())
    scale = math.sqrt((1 / len(d) + rho / (1 - rho)) * float(d.var(ddof=1)))
    if scale <= _ROUNDING * max(1.0, abs(mean)):
        below, inside = float(mean < -rope), float(-rope <= mean <= rope)
        return Equivalence(1.0 - below - inside, inside, below, rope, rho)
    posterior = stats.t(df=len(d) - 1, loc=mean, scale=scale)
    below, up_to = float(posterior.cdf(-rope)), float(posterior.cdf(rope))
    return Equivalence(1.0 - up_to, up_to - below, below, rope, rho)


@dataclasses.dataclass(frozen=True)
class SeedComparison:
    """Paired per-seed differences A − B, in points."""

    n: int
    mean: float
    low: float  # t interval; NaN when it cannot be computed (see note)
    high: float
    t_pvalue: float
    sign_flip_pvalue: float
    min_attainable_p: float
    note: str = ""


#: Differences closer than this (relative to their size) are equal: floating-point
#: rounding, not a spread between seeds.
_ROUNDING = 16 * np.finfo(float).eps


def compare_seeds(differences: Sequence[float]) -> SeedComparison:
    """Mean difference with its t interval, the paired t-test and the exact
    sign-flip test.

    The t interval and t-test assume normally distributed differences (which
    a handful of seeds cannot check); the sign-flip test assumes only that
    they are symmetric under the null, and cannot go below
    ``min_attainable_p(n)``.
    """
    d = np.asarray(differences, dtype=float)
    n = len(d)
    mean = float(d.mean()) if n else np.nan
    low = high = t_pvalue = np.nan
    note = ""
    if n < 2:
        note = "one seed: no interval or test across seeds"
    elif np.ptp(d) <= _ROUNDING * max(1.0, float(np.abs(d).max())):
        # Equal up to rounding (log ratios of equal ratios differ in the last
        # bits, by how a CPU's log rounds): no spread for a t-test to measure.
        if mean == 0:
            low = high = 0.0
            t_pvalue = 1.0
            note = "the same accuracy in every seed"
        else:
            note = "the same difference in every seed: the t-test is undefined"
    else:
        result = stats.ttest_1samp(d, 0.0)
        interval = result.confidence_interval(CONFIDENCE)
        low, high, t_pvalue = float(interval.low), float(interval.high), float(result.pvalue)
    return SeedComparison(n, mean, low, high, t_pvalue,
                          sign_flip_pvalue(d) if n else np.nan, min_attainable_p(n), note)


class Pooling(enum.Enum):
    """How the seeds' test sets relate, which decides how seeds are pooled."""

    #: Every seed tested the same examples (an official split): an example is
    #: one unit, its score difference summed over the seeds.
    SHARED = "shared"
    #: Each seed drew its own test subset: every (seed, example) is a unit,
    #: as if the subsets were independent (two random subsets of m from a
    #: pool of N share about m²/N examples, which this ignores).
    DRAWN = "drawn"


@dataclasses.dataclass(frozen=True)
class ExampleComparison:
    """Per-example evidence that A and B differ, seeds pooled."""

    units: int  # independent units compared (examples, or seed-examples)
    a_ahead: int  # units where A scored more often correct than B
    b_ahead: int
    pvalue: float  # exact two-sided sign test on a_ahead vs b_ahead
    low: float  # bootstrap interval of the accuracy difference, points
    high: float
    per_seed: tuple[tuple[int, int, float], ...]  # McNemar (b, c, p) per seed
    bootstrap_method: str

    @property
    def bootstrap_reliable(self) -> bool:
        return self.a_ahead + self.b_ahead >= MIN_DISCORDANT_FOR_BOOTSTRAP


def compare_examples(correct_a: Sequence[np.ndarray], correct_b: Sequence[np.ndarray],
                     pooling: Pooling, interval: bool = True) -> ExampleComparison:
    """Pool the seeds' per-example correctness (boolean arrays, one per seed,
    aligned by example) into one exact sign test and one bootstrap interval.

    SHARED: per example, the number of seeds A got right minus B's; the sign
    test counts examples where that is positive or negative (with one seed
    this is McNemar's test), and the bootstrap resamples examples.
    DRAWN: every seed's discordant pairs are summed (McNemar on the pooled
    counts, i.e. a stratified McNemar), and the bootstrap resamples each
    seed's examples separately. ``interval=False`` skips the bootstrap (most of
    the cost) where only the test is wanted: its interval is then NaN.
    """
    a = [np.asarray(x, dtype=bool) for x in correct_a]
    b = [np.asarray(x, dtype=bool) for x in correct_b]
    per_seed = tuple(mcnemar(x, y) for x, y in zip(a, b, strict=True))
    diffs = [x.astype(float) - y for x, y in zip(a, b, strict=True)]
    if pooling is Pooling.SHARED:
        summed = np.sum(diffs, axis=0)
        a_ahead, b_ahead = int(np.sum(summed > 0)), int(np.sum(summed < 0))
        units = len(summed)
        samples: tuple[np.ndarray, ...] = (summed / len(diffs),)
    else:
        a_ahead = sum(seed[0] for seed in per_seed)
        b_ahead = sum(seed[1] for seed in per_seed)
        units = sum(len(d) for d in diffs)
        samples = tuple(diffs)
    low, high, method = (bootstrap_interval(samples) if interval
                         else (math.nan, math.nan, "not computed"))
    return ExampleComparison(units, a_ahead, b_ahead, sign_test(a_ahead, b_ahead),
                             low, high, per_seed, method)


def _mean_of_means(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean([np.mean(sample, axis=axis) for sample in samples], axis=0)


def bootstrap_interval(samples: Sequence[np.ndarray]) -> tuple[float, float, str]:
    """95 % bootstrap interval (points) of the mean over samples of each
    sample's mean, resampling every sample on its own (scipy's ``bootstrap``,
    BCa; percentile where BCa is undefined), with a fixed seed."""
    point = 100 * float(_mean_of_means(*samples))
    if all(np.ptp(sample) == 0 for sample in samples):
        return point, point, "none needed (no variation)"
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            # BCa fails (warning, NaN) on some discrete samples; then fall back.
            warnings.simplefilter("error", stats.DegenerateDataWarning)
            try:
                result = stats.bootstrap(
                    tuple(samples), _mean_of_means, n_resamples=BOOTSTRAP_RESAMPLES,
                    confidence_level=CONFIDENCE, method=method, vectorized=True,
                    batch=200, **seeded_rng())
            except stats.DegenerateDataWarning:
                continue
        interval = result.confidence_interval
        return 100 * float(interval.low), 100 * float(interval.high), method
    raise AssertionError("the percentile bootstrap is always defined")


def average_ranks(accuracy: np.ndarray) -> np.ndarray:
    """Blocks × algorithms accuracies -> per-block ranks (1 = best, ties averaged)."""
    return stats.rankdata(-np.asarray(accuracy, dtype=float), axis=1)


@dataclasses.dataclass(frozen=True)
class FriedmanResult:
    chi2: float
    pvalue: float  # the chi-squared approximation (scipy's)
    permutation_pvalue: float  # the algorithms' order permuted within each block
    exact: bool  # every within-block permutation enumerated (else 9999, seeded)


def _friedman_statistic(*columns: np.ndarray) -> float:
    return stats.friedmanchisquare(*columns).statistic


def friedman(accuracy: np.ndarray) -> FriedmanResult:
    """Friedman's test on blocks × algorithms (scipy), with its permutation
    p-value: under the null the algorithms are exchangeable within each
    block, so the statistic is compared with its value under every
    reordering of each block (exact while (k!)^N ≤ 9999). With few blocks
    the chi-squared approximation is poor (Demšar 2006); the permutation
    p-value decides."""
    accuracy = np.asarray(accuracy, dtype=float)
    n_blocks, k = accuracy.shape
    chi2, pvalue = stats.friedmanchisquare(*accuracy.T)
    permuted = stats.permutation_test(
        tuple(accuracy.T), _friedman_statistic, permutation_type="samples",
        vectorized=False, n_resamples=BOOTSTRAP_RESAMPLES, alternative="greater",
        **seeded_rng())
    exact = math.factorial(k) ** n_blocks <= BOOTSTRAP_RESAMPLES
    return FriedmanResult(float(chi2), float(pvalue), float(permuted.pvalue), exact)


def nemenyi_cd(k: int, n_blocks: int, alpha: float = ALPHA) -> float:
    """Nemenyi's critical difference of average ranks (Demšar 2006, eq. 5):
    q_α · sqrt(k(k+1) / (6N)), q_α the studentized range quantile / √2."""
    q_alpha = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q_alpha * np.sqrt(k * (k + 1) / (6 * n_blocks)))
