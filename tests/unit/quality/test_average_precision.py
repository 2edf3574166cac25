"""AP50 as COCOeval computes it, exactly from a ranking and as a range from score bins."""

from __future__ import annotations

import random

import pytest

from prelabel.quality import binned_ap50_bounds, exact_ap50, score_bin
from prelabel.quality.bins import SCORE_BINS


def test_ap_of_a_small_ranking_matches_the_101_point_hand_computation() -> None:
    # Given 2 reviewed boxes and detections ranked hit, miss, hit
    ranked = [(0.9, True), (0.8, False), (0.7, True)]
    # When AP50 is computed
    ap = exact_ap50(ranked, reviewed=2)
    # Then recall 0..0.5 (51 points) reads precision 1, recall 0.51..1 (50 points) reads 2/3
    assert ap == pytest.approx((51 * 1.0 + 50 * (2 / 3)) / 101, rel=1e-12)


def test_precision_is_interpolated_from_the_right_and_unreached_recall_reads_zero() -> None:
    # Given 4 reviewed boxes and a ranking miss, hit, hit (precision rises to 2/3 at recall 0.5)
    ranked = [(0.9, False), (0.8, True), (0.7, True)]
    # When AP50 is computed
    ap = exact_ap50(ranked, reviewed=4)
    # Then recall 0..0.5 reads 2/3 (the best at or after it), recall above 0.5 reads 0
    assert ap == pytest.approx(51 * (2 / 3) / 101, rel=1e-12)


def test_ties_keep_input_order_as_cocoevals_stable_sort_does() -> None:
    # Given two detections scored alike, a miss listed first
    # When AP50 is computed with one reviewed box
    # Then the miss ranks first (precision 1/2 at recall 1), and listed the other way, 1
    assert exact_ap50([(0.5, False), (0.5, True)], 1) == pytest.approx(0.5, rel=1e-12)
    assert exact_ap50([(0.5, True), (0.5, False)], 1) == pytest.approx(1.0, rel=1e-12)


def test_no_reviewed_boxes_gives_no_ap_and_no_detections_gives_zero() -> None:
    # Given a class with detections but nothing reviewed, and one reviewed with no detections
    # Then the first has no AP (COCOeval leaves it out), the second has AP 0
    assert exact_ap50([(0.9, False)], 0) is None
    assert exact_ap50([], 3) == 0.0


def _bins(ranked: list[tuple[float, bool]]) -> tuple[list[int], list[int]]:
    tp, fp = [0] * SCORE_BINS, [0] * SCORE_BINS
    for score, hit in ranked:
        (tp if hit else fp)[score_bin(score)] += 1
    return tp, fp


def test_every_order_within_the_bins_lies_between_the_binned_bounds() -> None:
    # Given 300 random detections on a coarse score grid (many share a 0.001 bin)
    rng = random.Random(7)
    for _ in range(20):
        ranked = [
            (rng.randrange(900, 1000) / 1000 + rng.random() / 2000, rng.random() < 0.6)
            for _ in range(300)
        ]
        reviewed = sum(hit for _, hit in ranked) + rng.randrange(0, 40)
        low, high = binned_ap50_bounds(*_bins(ranked), reviewed)  # type: ignore[misc]
        # When the detections are ranked exactly, in random tie orders
        for _ in range(5):
            rng.shuffle(ranked)
            exact = exact_ap50(ranked, reviewed)
            # Then the exact AP lies in the range the bins give
            assert exact is not None
            assert low - 1e-12 <= exact <= high + 1e-12


def test_bins_holding_one_kind_each_give_the_exact_ap() -> None:
    # Given detections whose every bin holds only hits or only misses
    ranked = [(0.95, True), (0.951, True), (0.8, False), (0.7, True), (0.3, False)]
    # When the range is computed
    low, high = binned_ap50_bounds(*_bins(ranked), 4)  # type: ignore[misc]
    # Then it has no width and equals the exact AP
    assert low == high == pytest.approx(exact_ap50(ranked, 4))
