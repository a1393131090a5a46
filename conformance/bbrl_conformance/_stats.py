"""Exact tails for the sampling tests (RB-9): chi-square and binomial, in plain Python.

The suite cannot depend on scipy, and these are short: the chi-square survival function has a
closed form for integer degrees of freedom (a finite sum for even ones, plus an erfc term for
odd ones), and a binomial tail is a finite sum. `conformance/meta_tests/test_stats.py` checks
them against known values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["binomial_tail", "chi2_sf", "chi_square", "uniformity_p_value"]


def chi2_sf(x: float, dof: int) -> float:
    """P(X >= x) for X chi-square distributed with `dof` (>= 1) degrees of freedom."""
    if dof < 1:
        raise ValueError(f"dof: expected >= 1, got {dof}")
    if x <= 0:
        return 1.0
    half = x / 2
    if dof % 2 == 0:  # e^{-x/2} sum_{i < dof/2} (x/2)^i / i!
        term, total = 1.0, 1.0
        for i in range(1, dof // 2):
            term *= half / i
            total += term
        return min(1.0, math.exp(-half) * total)
    # odd: erfc(sqrt(x/2)) + e^{-x/2} sum_{i < (dof-1)/2} (x/2)^{i+1/2} / Gamma(i + 3/2)
    total = math.erfc(math.sqrt(half))
    term = math.sqrt(half) / math.gamma(1.5)
    for i in range((dof - 1) // 2):
        if i:
            term *= half / (i + 0.5)
        total += math.exp(-half) * term
    return min(1.0, total)


def chi_square(counts: Sequence[int], expected: Sequence[float]) -> float:
    """Pearson's statistic sum (observed - expected)^2 / expected."""
    return sum((c - e) ** 2 / e for c, e in zip(counts, expected, strict=True))


def uniformity_p_value(counts: Sequence[int]) -> float:
    """The chi-square p-value of `counts` (>= 2 categories) under equal probabilities."""
    total = sum(counts)
    expected = [total / len(counts)] * len(counts)
    return chi2_sf(chi_square(counts, expected), len(counts) - 1)


def binomial_tail(successes: int, trials: int, p: float) -> float:
    """The two-sided tail of `successes` for Binomial(`trials`, `p`): twice the smaller of
    P(X <= successes) and P(X >= successes), at most 1."""
    pmf = [math.comb(trials, k) * p**k * (1 - p) ** (trials - k) for k in range(trials + 1)]
    low = sum(pmf[: successes + 1])
    high = sum(pmf[successes:])
    return min(1.0, 2 * min(low, high))
