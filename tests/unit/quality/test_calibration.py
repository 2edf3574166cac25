"""Calibrated thresholds: the lowest grid threshold whose precision lower bound meets the
target, the recall it keeps, or why not and how many boxes would tell."""

from __future__ import annotations

import pytest

from prelabel.domain.errors import InvalidInput
from prelabel.quality import (
    ALL,
    QualityAccumulator,
    ScopeTally,
    TaskEvidence,
    calibrate,
    calibrate_scope,
    wilson_lower,
)
from tests.unit.quality.builders import task


def _tally(*tasks: TaskEvidence) -> ScopeTally:
    acc = QualityAccumulator()
    for t in tasks:
        acc.add_task(t)
    return acc.scopes[ALL]


def test_the_lowest_threshold_whose_lower_bound_meets_the_target_is_chosen() -> None:
    # Given 100 right car boxes scored 0.8, 20 wrong ones at 0.5, 5 right ones at 0.45 and
    # 10 reviewed cars never found (115 reviewed)
    tasks = [task("car", hits=[0.8] * 10) for _ in range(10)]
    tally = _tally(*tasks, task("car", hits=[0.45] * 5, false=[0.5] * 20, missed=10))
    # When calibrated at 0.9
    cal = calibrate("car", tally.classes["car"], 0.9)
    # Then 0.51 is chosen: above 0.5 precision is 100/100 (bound 0.963), at 0.5 it is 100/120
    # (bound below 0.9), and 0.51 is the lowest grid threshold above 0.5
    assert (cal.reachable, cal.threshold) == (True, 0.51)
    assert cal.precision is not None and cal.recall is not None
    assert (cal.precision.hits, cal.precision.n) == (100, 100)
    assert cal.precision.lower == pytest.approx(100 / (100 + 1.959963984540054**2))
    assert wilson_lower(100, 120) < 0.9  # type: ignore[operator]
    # And the recall it keeps is of the 115 reviewed cars
    assert (cal.recall.hits, cal.recall.n) == (100, 115)


def test_too_few_boxes_is_not_reachable_with_the_boxes_it_would_take() -> None:
    # Given 5 right car boxes (precision 1.0, lower bound 0.57)
    tally = _tally(task("car", hits=[0.8, 0.81, 0.82, 0.83, 0.84]))
    # When calibrated at 0.9
    cal = calibrate("car", tally.classes["car"])
    # Then it is not reachable; at the best threshold 5 of 5 are right, and 35 boxes at
    # precision 1.0 would prove 0.9: 30 more
    assert not cal.reachable
    assert cal.precision is not None and (cal.precision.hits, cal.precision.n) == (5, 5)
    assert (cal.boxes_needed, cal.more_boxes) == (35, 30)


def test_a_precision_below_the_target_is_not_reachable_at_any_size() -> None:
    # Given car boxes right only half the time at every score
    tally = _tally(*[task("car", hits=[0.9, 0.7, 0.5], false=[0.91, 0.71, 0.51])] * 20)
    # When calibrated at 0.9
    cal = calibrate("car", tally.classes["car"])
    # Then not reachable, the best precision is about 0.5, and no number of boxes would do
    assert not cal.reachable
    assert cal.precision is not None and cal.precision.value == pytest.approx(0.5)
    assert (cal.boxes_needed, cal.more_boxes) == (None, None)


def test_no_threshold_below_the_evidence_is_suggested() -> None:
    # Given a run at threshold 0.3: 50 right boxes scored 0.31-0.8, nothing below 0.3 seen
    tally = _tally(task("car", hits=[0.31 + i * 0.01 for i in range(50)]))
    # When calibrated without a floor (the lowest score seen sets it) and with the run's 0.35
    plain = calibrate("car", tally.classes["car"], 0.9)
    floored = calibrate("car", tally.classes["car"], 0.9, evidence_floor=0.35)
    # Then the lowest suggestion is 0.31 (keeping every box seen), never 0.01; and with the
    # floor, 0.35
    assert (plain.reachable, plain.threshold) == (True, 0.31)
    assert (floored.reachable, floored.threshold) == (True, 0.35)


def test_a_class_never_predicted_has_no_threshold() -> None:
    # Given a class reviewed but never predicted
    tally = _tally(task("dog", missed=4))
    # When the scope is calibrated
    (cal,) = calibrate_scope(tally)
    # Then it is not reachable and has no figures to show
    assert (cal.class_key, cal.reachable, cal.threshold, cal.precision) == (
        "dog",
        False,
        None,
        None,
    )


@pytest.mark.parametrize("target", [0.0, 1.0, 1.2])
def test_a_target_outside_0_1_is_refused_naming_it(target: float) -> None:
    # Given a tally
    tally = _tally(task("car", hits=[0.9]))
    # When calibrated at an impossible target
    with pytest.raises(InvalidInput) as err:
        calibrate("car", tally.classes["car"], target)
    # Then the error names the field and the value
    assert err.value.field == "target_precision"
    assert str(target) in err.value.message
