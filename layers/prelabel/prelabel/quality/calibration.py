"""Calibrated thresholds: per class, the lowest 0.01-grid threshold whose precision is proven
to meet a target (its 95% Wilson lower bound >= target), with the recall it keeps.

Only thresholds the evidence covers are candidates: pre-labels exist only above the threshold
of the run that wrote them, so a threshold below it would be judged on boxes nobody saw.
Unless told (`evidence_floor`, e.g. the run's threshold for the class), the lowest candidate
is the grid threshold at or below the lowest score seen, which keeps every box seen.

When no candidate qualifies, the answer is "not reachable" with the most convincing candidate
(the highest lower bound; the lowest threshold of equals) and an estimate of the evidence it
would take: if more reviews keep showing the precision seen there, its lower bound clears the
target once that many boxes at or above the threshold are reviewed (`boxes_needed`). When that
precision is not above the target, no amount of review proves it and the estimate is None.
"""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.errors import InvalidInput
from prelabel.domain.mapping import MIN_THRESHOLD
from prelabel.quality.bins import MIN_STEP, THRESHOLD_STEPS, step_at_or_below
from prelabel.quality.bounds import DEFAULT_TARGET_PRECISION, Proportion, boxes_needed
from prelabel.quality.report import CurvePoint, precision_recall_curve
from prelabel.quality.tally import ClassTally, ScopeTally


@dataclass(frozen=True, slots=True)
class Calibration:
    class_key: str
    target: float
    reachable: bool
    # Reachable: the suggested threshold and what it gives. Not reachable: the most convincing
    # threshold seen and its figures (None when the class has no evaluated box at all).
    threshold: float | None
    precision: Proportion | None
    recall: Proportion | None
    # Not reachable only: the boxes at or above `threshold` it would take to prove the target
    # at the precision seen (None: that precision is not above the target), and how many more
    # than reviewed so far.
    boxes_needed: int | None = None
    more_boxes: int | None = None


def check_target(target: float) -> float:
    if not 0.0 < target < 1.0:
        raise InvalidInput(
            f"target_precision: {target} is outside (0, 1)", field="target_precision"
        )
    return target


def _first_step(tally: ClassTally, evidence_floor: float | None) -> int | None:
    if evidence_floor is not None:
        floor = max(evidence_floor, MIN_THRESHOLD)
        step = step_at_or_below(floor)
        # A floor between grid points: the next grid threshold is the lowest it covers.
        return step if step / THRESHOLD_STEPS >= floor else step + 1
    if tally.min_score is None:
        return None
    return max(step_at_or_below(tally.min_score), MIN_STEP)


def calibrate(
    class_key: str,
    tally: ClassTally,
    target: float = DEFAULT_TARGET_PRECISION,
    evidence_floor: float | None = None,
) -> Calibration:
    check_target(target)
    first = _first_step(tally, evidence_floor)
    curve = precision_recall_curve(tally)
    candidates = [] if first is None else [p for p in curve[first - MIN_STEP :] if p.precision.n]
    for point in candidates:
        if point.precision.lower is not None and point.precision.lower >= target:
            return Calibration(
                class_key, target, True, point.threshold, point.precision, point.recall
            )
    if not candidates:
        return Calibration(class_key, target, False, None, None, None)
    best = _most_convincing(candidates)
    observed = best.precision.value or 0.0
    needed = boxes_needed(observed, target)
    return Calibration(
        class_key,
        target,
        False,
        best.threshold,
        best.precision,
        best.recall,
        needed,
        None if needed is None else max(needed - best.precision.n, 0),
    )


def _most_convincing(candidates: list[CurvePoint]) -> CurvePoint:
    best = candidates[0]
    for point in candidates[1:]:
        if (point.precision.lower or 0.0) > (best.precision.lower or 0.0):
            best = point
    return best


def calibrate_scope(
    tally: ScopeTally,
    target: float = DEFAULT_TARGET_PRECISION,
    evidence_floors: dict[str, float] | None = None,
) -> tuple[Calibration, ...]:
    """Every class of the scope, by class key."""
    floors = evidence_floors or {}
    return tuple(
        calibrate(k, tally.classes[k], target, floors.get(k)) for k in sorted(tally.classes)
    )
