"""Figures from tallies: per class counts, precision, recall, F1, AP50 and the curve.

Precision and recall come with their count and a 95% Wilson lower bound. F1's lower bound is
the harmonic mean of those two lower bounds: F1 grows with precision and with recall, so it
holds whenever both do, which is at least 90% of the time (each fails 5% at most); it is a
conservative figure, not a 95% interval of its own. AP50 is the middle of the range the score
bins allow (`binned_ap50_bounds`); the range is given too, and half its width bounds the
distance to the AP of the exact ranking. Cost: O(1000 + 101 + 99) a class, whatever the
number of images.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from prelabel.quality.average_precision import binned_ap50_bounds
from prelabel.quality.bins import BINS_PER_STEP, MIN_STEP, SCORE_BINS, THRESHOLD_STEPS, threshold_of
from prelabel.quality.bounds import Proportion
from prelabel.quality.tally import ClassTally, Scope, ScopeTally


@dataclass(frozen=True, slots=True)
class CurvePoint:
    threshold: float
    precision: Proportion  # true positives among the boxes scored >= threshold
    recall: Proportion  # reviewed boxes found by those boxes


@dataclass(frozen=True, slots=True)
class F1Score:
    value: float | None  # 2 TP / (2 TP + FP + FN)
    n: int  # TP + FP + FN: the boxes on either side it rests on
    lower: float | None  # harmonic mean of precision's and recall's lower bounds


@dataclass(frozen=True, slots=True)
class AP50:
    value: float | None  # the middle of [low, high]; None without reviewed boxes
    low: float | None
    high: float | None
    reviewed: int  # reviewed boxes (COCOeval's ground truth)
    detections: int  # predicted boxes ranked

    @property
    def error_bound(self) -> float | None:
        """How far `value` can be from the AP50 of the exact ranking (any tie order)."""
        return None if self.low is None or self.high is None else (self.high - self.low) / 2


@dataclass(frozen=True, slots=True)
class ClassQuality:
    class_key: str
    reviewed: int
    predicted: int  # predicted boxes evaluated (beyond_cap excluded)
    true_positives: int
    misses: int  # reviewed boxes no prediction of their class matched
    extra: int  # false positives that are not wrong_class
    wrong_class: int
    confused_with: dict[str, int]  # reviewed class under this class's wrong-class boxes
    beyond_cap: int
    min_score: float | None
    precision: Proportion
    recall: Proportion
    f1: F1Score
    ap50: AP50
    curve: tuple[CurvePoint, ...]  # thresholds 0.01 ... 0.99


@dataclass(frozen=True, slots=True)
class ScopeReport:
    scope: Scope
    tasks: int  # tasks with both pre-labels and reviewed labels
    classes: tuple[ClassQuality, ...]
    # Mean AP50 over classes with reviewed boxes (COCOeval's AP at IoU 0.5), with the mean of
    # the lows and highs; micro precision and recall over every class.
    map50: AP50
    precision: Proportion
    recall: Proportion


def suffix_counts(tally: ClassTally) -> tuple[list[int], list[int]]:
    """True and false positives scored in bin b or above, for every b (and 0 past the end)."""
    tp, fp = [0] * (SCORE_BINS + 1), [0] * (SCORE_BINS + 1)
    for b in range(SCORE_BINS - 1, -1, -1):
        tp[b] = tp[b + 1] + tally.tp[b]
        fp[b] = fp[b + 1] + tally.fp[b]
    return tp, fp


def precision_recall_curve(tally: ClassTally) -> tuple[CurvePoint, ...]:
    tp, fp = suffix_counts(tally)
    points = []
    for step in range(MIN_STEP, THRESHOLD_STEPS):
        b = step * BINS_PER_STEP
        points.append(
            CurvePoint(
                threshold_of(step),
                Proportion.of(tp[b], tp[b] + fp[b]),
                Proportion.of(tp[b], tally.reviewed),
            )
        )
    return tuple(points)


def f1_score(precision: Proportion, recall: Proportion, misses: int) -> F1Score:
    tp = precision.hits
    n = precision.n + misses
    value = 2 * tp / (tp + n) if n else None
    lows = (precision.lower, recall.lower)
    lower = None
    if lows[0] is not None and lows[1] is not None:
        lower = 0.0 if 0.0 in lows else 2 * lows[0] * lows[1] / (lows[0] + lows[1])
    return F1Score(value, n, lower)


def class_quality(class_key: str, tally: ClassTally) -> ClassQuality:
    tp, fp = sum(tally.tp), sum(tally.fp)
    precision = Proportion.of(tp, tp + fp)
    recall = Proportion.of(tp, tally.reviewed)
    bounds = binned_ap50_bounds(tally.tp, tally.fp, tally.reviewed)
    low, high = bounds if bounds else (None, None)
    middle = None if bounds is None else (bounds[0] + bounds[1]) / 2
    return ClassQuality(
        class_key=class_key,
        reviewed=tally.reviewed,
        predicted=tp + fp,
        true_positives=tp,
        misses=tally.reviewed - tp,
        extra=fp - tally.wrong_class,
        wrong_class=tally.wrong_class,
        confused_with=dict(tally.confused_with),
        beyond_cap=tally.beyond_cap,
        min_score=tally.min_score,
        precision=precision,
        recall=recall,
        f1=f1_score(precision, recall, tally.reviewed - tp),
        ap50=AP50(middle, low, high, tally.reviewed, tp + fp),
        curve=precision_recall_curve(tally),
    )


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def scope_report(scope: Scope, tally: ScopeTally, classes: Iterable[str] = ()) -> ScopeReport:
    """The report of one scope; `classes` adds classes that have no box yet (e.g. every
    mapped entry), so they show with zero counts."""
    keys = sorted({*tally.classes, *classes})
    empty = ClassTally()
    rows = tuple(class_quality(k, tally.classes.get(k, empty)) for k in keys)
    graded = [r.ap50 for r in rows if r.reviewed]
    map50 = AP50(
        _mean([a.value for a in graded]),
        _mean([a.low for a in graded]),
        _mean([a.high for a in graded]),
        sum(a.reviewed for a in graded),
        sum(r.predicted for r in rows),
    )
    tp = sum(r.true_positives for r in rows)
    return ScopeReport(
        scope,
        tally.tasks,
        rows,
        map50,
        Proportion.of(tp, sum(r.predicted for r in rows)),
        Proportion.of(tp, sum(r.reviewed for r in rows)),
    )
