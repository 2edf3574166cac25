"""AP50 as COCOeval computes it: 101-point interpolated precision over recall 0, 0.01, ... 1.

COCOeval's interpolated precision at recall r is the highest precision of any point of the
ranked list whose recall is at least r (0 if none). Only the point after the last true
positive of each run of true positives can be that highest one (within a run precision grows,
along a run of false positives recall stays and precision falls), so the points given here
are those: cumulative (true positives, false positives) after each such run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# numpy.linspace(0, 1, 101) as COCOeval builds it: i * 0.01, and 1.0 exactly at the end.
RECALL_POINTS: tuple[float, ...] = (*(i * 0.01 for i in range(100)), 1.0)
# numpy.spacing(1): COCOeval adds it to every precision's denominator.
_EPS = 2.220446049250313e-16


def interpolated_ap(points: Sequence[tuple[int, int]], reviewed: int) -> float | None:
    """AP from cumulative (tp, fp) points in rank order; None without reviewed boxes (COCOeval
    leaves such a class out of its mean)."""
    return _ap(points, reviewed) if reviewed > 0 else None


def _ap(points: Sequence[tuple[int, int]], reviewed: int) -> float:
    recalls = [tp / reviewed for tp, _ in points]
    envelope = [tp / (tp + fp + _EPS) for tp, fp in points]
    for i in range(len(envelope) - 2, -1, -1):
        envelope[i] = max(envelope[i], envelope[i + 1])
    total, i = 0.0, 0
    for r in RECALL_POINTS:
        while i < len(recalls) and recalls[i] < r:
            i += 1
        if i == len(recalls):
            break
        total += envelope[i]
    return total / len(RECALL_POINTS)


def exact_ap50(detections: Iterable[tuple[float, bool]], reviewed: int) -> float | None:
    """AP50 from every evaluated detection as (score, is true positive), in image order and
    within an image in input order: ranked by score with ties kept in that order, which is how
    COCOeval ranks a category's detections over the images it is given."""
    ranked = sorted(detections, key=lambda d: -d[0])
    points: list[tuple[int, int]] = []
    tp = fp = 0
    for _, hit in ranked:
        if hit:
            tp += 1
            points.append((tp, fp))
        else:
            fp += 1
    return interpolated_ap(points, reviewed)


def binned_ap50_bounds(
    tp_bins: Sequence[int], fp_bins: Sequence[int], reviewed: int
) -> tuple[float, float] | None:
    """The lowest and highest AP50 any ranking within the score bins can give.

    Detections of one bin are ranked among themselves in an unknown order; moving a true
    positive ahead of a false positive never lowers AP (it raises one point's precision and
    recall and leaves the others), so false positives first gives the lowest AP and true
    positives first the highest. COCOeval's ranking is one of those orders: its AP lies
    between the two.
    """
    if reviewed <= 0:
        return None
    low: list[tuple[int, int]] = []
    high: list[tuple[int, int]] = []
    tp = fp = 0
    for b in range(len(tp_bins) - 1, -1, -1):
        t, f = tp_bins[b], fp_bins[b]
        if t:
            high.append((tp + t, fp))
            low.append((tp + t, fp + f))
        tp, fp = tp + t, fp + f
    return _ap(low, reviewed), _ap(high, reviewed)
