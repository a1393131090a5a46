"""The statistics of the sampling tests (bbrl_conformance._stats) against known values."""

from __future__ import annotations

import math

import pytest
from bbrl_conformance._stats import binomial_tail, chi2_sf, chi_square, uniformity_p_value


@pytest.mark.parametrize(
    ("x", "dof", "want"),
    [
        # closed forms: dof 1 is erfc(sqrt(x/2)), dof 2 is exp(-x/2)
        (3.841458820694124, 1, 0.05),
        (6.634896601021214, 1, 0.01),
        (5.991464547107979, 2, 0.05),
        (7.814727903251178, 3, 0.05),
        (15.50731305586545, 8, 0.05),
        (20.09023502478529, 8, 0.01),
        (82.52872654147397, 63, 0.05),
        (24.321886, 7, 0.001),
        (29.87750, 7, 1e-4),
    ],
)
def test_chi2_sf_matches_tables(x: float, dof: int, want: float) -> None:
    assert chi2_sf(x, dof) == pytest.approx(want, rel=2e-3)


def test_chi2_sf_edges() -> None:
    assert chi2_sf(0.0, 5) == 1.0
    assert chi2_sf(-1.0, 2) == 1.0
    assert chi2_sf(1e4, 7) < 1e-300
    with pytest.raises(ValueError):
        chi2_sf(1.0, 0)
    for dof in range(1, 12):  # decreasing in x
        values = [chi2_sf(x / 2, dof) for x in range(1, 60)]
        assert values == sorted(values, reverse=True)


def test_chi_square_and_uniformity() -> None:
    assert chi_square([10, 10], [10.0, 10.0]) == 0.0
    assert chi_square([12, 8], [10.0, 10.0]) == pytest.approx(0.8)
    assert uniformity_p_value([100, 100, 100]) == 1.0
    assert uniformity_p_value([300, 0, 0]) < 1e-100


def test_binomial_tail() -> None:
    assert binomial_tail(5, 10, 0.5) == 1.0
    assert binomial_tail(0, 10, 0.5) == pytest.approx(2 * 0.5**10)
    assert binomial_tail(10, 10, 0.5) == pytest.approx(2 * 0.5**10)
    assert binomial_tail(0, 60, 0.7) == pytest.approx(2 * 0.3**60)
    total = sum(math.comb(20, k) * 0.3**k * 0.7 ** (20 - k) for k in range(3))
    assert binomial_tail(2, 20, 0.3) == pytest.approx(2 * total)
