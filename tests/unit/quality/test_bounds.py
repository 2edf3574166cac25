"""Wilson lower bounds and the sample size estimate, against published and closed-form figures."""

from __future__ import annotations

import math

import pytest

from prelabel.quality import Proportion, boxes_needed, wilson_interval, wilson_lower


@pytest.mark.parametrize(
    ("hits", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombes_table(
    hits: int, n: int, low: float, high: float
) -> None:
    # Given a published 95% Wilson interval
    # When ours is computed
    bounds = wilson_interval(hits, n)
    # Then both ends agree to the table's 4 decimals
    assert bounds is not None
    assert bounds == pytest.approx((low, high), abs=5e-5)


def test_all_hits_gives_the_closed_form_n_over_n_plus_z_squared() -> None:
    # Given n of n boxes right: the lower bound is n / (n + z^2)
    z2 = 1.959963984540054**2
    for n in (1, 10, 100):
        # Then ours is that
        assert wilson_lower(n, n) == pytest.approx(n / (n + z2), rel=1e-12)


def test_no_evidence_gives_no_bound_and_no_value() -> None:
    # Given zero boxes
    p = Proportion.of(0, 0)
    # Then the value and the bound are None, not 0
    assert (p.hits, p.n, p.value, p.lower) == (0, 0, None, None)
    assert wilson_interval(0, 0) is None


def test_boxes_needed_is_the_first_n_whose_bound_clears_the_target() -> None:
    # Given a precision of 1.0 seen so far and a target of 0.9
    # When the boxes needed are estimated
    n = boxes_needed(1.0, 0.9)
    # Then it is ceil(9 z^2) = 35 (n / (n + z^2) >= 0.9), the first such n
    assert n == math.ceil(9 * 1.959963984540054**2) == 35
    # And for 0.95 seen, the n found clears 0.9 and n - 1 does not
    m = boxes_needed(0.95, 0.9)
    assert m is not None
    assert wilson_lower(0.95 * m, m) >= 0.9 > wilson_lower(0.95 * (m - 1), m - 1)  # type: ignore[operator]


@pytest.mark.parametrize("observed", [0.9, 0.85, 0.0])
def test_a_precision_not_above_the_target_can_never_be_proven(observed: float) -> None:
    # Given a precision at or below the target
    # Then no number of boxes proves the target
    assert boxes_needed(observed, 0.9) is None
