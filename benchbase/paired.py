"""The exact McNemar test on two classifiers' per-example correctness, and the
region of practical equivalence the reports call a tie (``ROPE``).

One place for each: the reports compare algorithms with the test
(``benchbase.report.stats``), and successive halving keeps the trainings
the leader is not shown to beat (``benchbase.trial.selection``). scipy is imported
on first use, so a trial process that never halves does not load
``scipy.stats``.
"""

from __future__ import annotations

import numpy as np

#: Region of practical equivalence, in accuracy points: differences within
#: ±ROPE count as no difference at all (``benchbase report --rope``).
ROPE = 0.2


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> tuple[int, int, float]:
    """Exact McNemar test: (A right & B wrong, A wrong & B right, two-sided p).

    Under the null the discordant pairs split like a fair coin's tosses
    (``scipy.stats.binomtest``); concordant pairs carry no information.
    """
    b = int(np.sum(correct_a & ~correct_b))
    c = int(np.sum(~correct_a & correct_b))
    return b, c, sign_test(b, c)


def sign_test(ahead: int, behind: int) -> float:
    """Two-sided exact sign test of ``ahead`` wins against ``behind``; 1 without either."""
    from scipy import stats

    return float(stats.binomtest(ahead, ahead + behind, 0.5).pvalue) if ahead + behind else 1.0
