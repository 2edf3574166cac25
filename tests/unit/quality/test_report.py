"""A scope's report: counts, precision, recall, F1 and AP50 per class, and the curve."""

from __future__ import annotations

import pytest

from prelabel.quality import (
    ALL,
    QualityAccumulator,
    TaskEvidence,
    exact_ap50,
    scope_report,
    wilson_lower,
)
from tests.unit.quality.builders import box, pred, rev, task


def _report(*tasks: TaskEvidence, classes: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    acc = QualityAccumulator()
    for t in tasks:
        acc.add_task(t)
    return scope_report(ALL, acc.scopes[ALL], classes)


def test_counts_and_rates_per_class_with_their_n_and_lower_bounds() -> None:
    # Given cars: 8 found (0.9), 2 extra (0.4), 2 missed; a truck reviewed under a car box
    cars = task("car", hits=[0.9] * 8, false=[0.4, 0.4], missed=2)
    truck = TaskEvidence([pred("car", 0.6, box(0, 0))], [rev("truck", box(0, 0))], "m1")
    # When the report is built
    report = _report(cars, truck)
    car, trk = report.classes
    # Then car has 8 TP, 2 misses, 2 extra, 1 wrong class (on the truck), all with counts
    assert (car.class_key, car.true_positives, car.misses, car.extra, car.wrong_class) == (
        "car",
        8,
        2,
        2,
        1,
    )
    assert car.confused_with == {"truck": 1}
    assert (car.precision.hits, car.precision.n, car.recall.hits, car.recall.n) == (8, 11, 8, 10)
    assert car.precision.value == pytest.approx(8 / 11)
    assert car.precision.lower == pytest.approx(wilson_lower(8, 11))
    # And F1 = 2TP/(2TP+FP+FN) over n = TP+FP+FN, its bound the harmonic mean of the bounds
    assert car.f1.value == pytest.approx(16 / (16 + 3 + 2))
    assert car.f1.n == 13
    p, r = car.precision.lower, car.recall.lower
    assert car.f1.lower == pytest.approx(2 * p * r / (p + r))
    # And the truck: one reviewed, missed, no prediction of its own, AP 0
    assert (trk.class_key, trk.reviewed, trk.misses, trk.predicted) == ("truck", 1, 1, 0)
    assert trk.ap50.value == 0.0
    assert report.tasks == 2


def test_ap50_range_holds_the_exact_ap_and_the_map_averages_classes_with_reviewed_boxes() -> None:
    # Given cars and persons with distinct scores, and a dog predicted but never reviewed
    cars = task("car", hits=[0.91, 0.72, 0.55], false=[0.83, 0.31], missed=1)
    persons = task("person", hits=[0.66], false=[0.97])
    dog = task("dog", false=[0.5])
    # When the report is built
    report = _report(cars, persons, dog)
    car, dog_row, person = report.classes
    # Then each class's AP50 equals the exact ranking's (no two boxes share a bin)
    car_exact = exact_ap50(
        [(0.91, True), (0.72, True), (0.55, True), (0.83, False), (0.31, False)], 4
    )
    assert car.ap50.value == pytest.approx(car_exact)
    assert car.ap50.error_bound == 0.0
    assert person.ap50.value == pytest.approx(exact_ap50([(0.66, True), (0.97, False)], 1))
    # And the dog has no AP (nothing reviewed) and stays out of the mean
    assert dog_row.ap50.value is None
    assert report.map50.value == pytest.approx((car.ap50.value + person.ap50.value) / 2)


def test_the_curve_counts_a_box_scored_exactly_at_a_threshold() -> None:
    # Given car boxes scored 0.3 (hit), 0.29 (hit), 0.5 (miss) and 3 reviewed cars
    report = _report(task("car", hits=[0.3, 0.29], false=[0.5], missed=1))
    curve = {round(p.threshold, 2): p for p in report.classes[0].curve}
    # Then the curve runs 0.01 ... 0.99
    assert (min(curve), max(curve), len(curve)) == (0.01, 0.99, 99)
    # And at 0.30 the 0.3 box counts (as the worker's `score >= threshold`), 0.29 does not
    at_30 = curve[0.3]
    assert (at_30.precision.hits, at_30.precision.n, at_30.recall.hits, at_30.recall.n) == (
        1,
        2,
        1,
        3,
    )
    assert (curve[0.29].precision.hits, curve[0.29].precision.n) == (2, 3)
    assert curve[0.51].precision.n == 0
    assert curve[0.51].precision.value is None


def test_classes_asked_for_show_with_zero_counts() -> None:
    # Given a report over cars only, asked to list the mapped bus class too
    report = _report(task("car", hits=[0.9]), classes=("bus",))
    # Then bus is listed with nothing counted and no rates
    bus = next(c for c in report.classes if c.class_key == "bus")
    assert (bus.reviewed, bus.predicted, bus.precision.value, bus.recall.value) == (
        0,
        0,
        None,
        None,
    )
    assert bus.ap50.value is None


def test_tasks_with_an_empty_side_count_their_misses_and_extra_boxes() -> None:
    # Given a task pre-labeled with no box but 3 reviewed cars, and one with 2 car boxes that
    # people reviewed as empty
    empty_prelabel = task("car", missed=3)
    empty_review = task("car", false=[0.8, 0.6])
    # When the report is built
    report = _report(empty_prelabel, empty_review)
    (car,) = report.classes
    # Then both tasks count, the 3 cars are misses and the 2 boxes extra: recall 0 of 3,
    # precision 0 of 2
    assert report.tasks == 2
    assert (car.misses, car.extra, car.recall.n, car.precision.n) == (3, 2, 3, 2)
    assert (car.recall.value, car.precision.value, car.ap50.value) == (0.0, 0.0, 0.0)
