"""Matching one image's pre-labels to its reviewed boxes: COCOeval's rule at IoU 0.5, plus the
names of the false positives (wrong class, extra)."""

from __future__ import annotations

import pytest

from prelabel.domain.entities import Box
from prelabel.domain.errors import InvalidInput
from prelabel.quality import MAX_PER_CLASS, PredictedBox, Verdict, iou, match_image
from tests.unit.quality.builders import box, pred, rev


def verdicts(predicted: list[PredictedBox], reviewed: list) -> list[tuple[Verdict, int | None]]:  # type: ignore[type-arg]
    return [(v.verdict, v.reviewed_index) for v in match_image(predicted, reviewed).verdicts]


def test_a_duplicate_box_is_extra_and_the_better_scored_one_matches() -> None:
    # Given one reviewed car and two car predictions on it, the second listed scored higher
    reviewed = [rev("car", box(0, 0))]
    predicted = [pred("car", 0.6, box(0, 0)), pred("car", 0.9, box(1, 0))]
    # When matched
    # Then the 0.9 box takes the car, the 0.6 one is an extra box, nothing is missed
    assert verdicts(predicted, reviewed) == [(Verdict.EXTRA, None), (Verdict.MATCH, 0)]
    assert match_image(predicted, reviewed).missed == ()


def test_a_box_on_an_object_reviewed_as_another_class_is_wrong_class() -> None:
    # Given a reviewed truck and a car prediction on it, no truck prediction
    reviewed = [rev("truck", box(0, 0))]
    predicted = [pred("car", 0.8, box(0, 0))]
    # When matched
    match = match_image(predicted, reviewed)
    # Then the car box is wrong class, pointing at the truck, and the truck is missed
    assert [(v.verdict, v.reviewed_index) for v in match.verdicts] == [(Verdict.WRONG_CLASS, 0)]
    assert match.missed == (0,)


def test_a_wrong_class_box_on_an_object_found_under_its_own_class_is_extra() -> None:
    # Given a reviewed person, matched by a person prediction, and a dog prediction on it too
    reviewed = [rev("person", box(0, 0))]
    predicted = [pred("person", 0.7, box(0, 0)), pred("dog", 0.9, box(0, 0))]
    # When matched
    # Then the dog box is extra: the person was found, there is nothing to rename
    assert verdicts(predicted, reviewed) == [(Verdict.MATCH, 0), (Verdict.EXTRA, None)]


def test_one_missed_box_takes_one_wrong_class_box_the_best_scored() -> None:
    # Given a reviewed truck and two non-truck predictions on it (car 0.5, bus 0.8)
    reviewed = [rev("truck", box(0, 0))]
    predicted = [pred("car", 0.5, box(0, 0)), pred("bus", 0.8, box(1, 1))]
    # When matched
    # Then the bus is wrong class, the car an extra box
    assert verdicts(predicted, reviewed) == [(Verdict.EXTRA, None), (Verdict.WRONG_CLASS, 0)]


def test_no_predictions_leaves_every_reviewed_box_missed() -> None:
    # Given two reviewed boxes and no prediction
    reviewed = [rev("car", box(0, 0)), rev("person", box(50, 0))]
    # When matched
    match = match_image([], reviewed)
    # Then there is no verdict and both are missed
    assert (match.verdicts, match.missed) == ((), (0, 1))
    assert match.reviewed_classes == ("car", "person")


def test_no_reviewed_boxes_makes_every_prediction_extra() -> None:
    # Given predictions on an image people reviewed as empty
    predicted = [pred("car", 0.9, box(0, 0)), pred("person", 0.3, box(50, 0))]
    # When matched
    # Then each is an extra box
    assert verdicts(predicted, []) == [(Verdict.EXTRA, None)] * 2


def test_equal_scores_keep_input_order_and_equal_ious_go_to_the_later_reviewed_box() -> None:
    # Given two reviewed cars the same distance from two equally scored car predictions
    left, right = rev("car", Box(0, 0, 10, 10)), rev("car", Box(10, 0, 20, 10))
    predicted = [pred("car", 0.5, Box(5, 0, 15, 10)), pred("car", 0.5, Box(5, 0, 15, 10))]
    # When matched (each prediction overlaps each car at IoU 1/3: below 0.5)
    assert iou(predicted[0].box, left.box) == pytest.approx(1 / 3)
    # Then nothing matches at all
    assert verdicts(predicted, [left, right]) == [(Verdict.EXTRA, None)] * 2
    # And with boxes overlapping both at IoU 0.6, the first listed prediction takes the later
    # reviewed box (COCOeval's `<` keeps the last of equal IoUs) and the second the other
    a, b = rev("car", Box(0, 0, 10, 10)), rev("car", Box(0, 0, 10, 10))
    p = [pred("car", 0.5, Box(0, 0, 10, 6)), pred("car", 0.5, Box(0, 0, 10, 6))]
    assert iou(p[0].box, a.box) == pytest.approx(0.6)
    assert verdicts(p, [a, b]) == [(Verdict.MATCH, 1), (Verdict.MATCH, 0)]


def test_iou_of_exactly_0_5_matches_and_just_under_does_not() -> None:
    # Given a reviewed 10x10 box and predictions covering half of it (IoU 0.5) or a bit less
    reviewed = [rev("car", Box(0, 0, 10, 10))]
    half = pred("car", 0.9, Box(0, 0, 10, 5))
    less = pred("car", 0.9, Box(0, 0, 10, 4.99))
    # When each is matched
    # Then IoU 0.5 is a match, 0.499 is extra
    assert verdicts([half], reviewed) == [(Verdict.MATCH, 0)]
    assert verdicts([less], reviewed) == [(Verdict.EXTRA, None)]


def test_greedy_by_score_the_best_scored_takes_its_best_overlap_first() -> None:
    # Given reviewed cars A and B; the 0.9 prediction overlaps A at 0.90 and B at 0.74,
    # the 0.5 prediction lies exactly on A (IoU 1) and overlaps B at 0.67
    a, b = rev("car", Box(0, 0, 10, 10)), rev("car", Box(2, 0, 12, 10))
    strong = pred("car", 0.9, Box(0.5, 0, 10.5, 10))
    weak = pred("car", 0.5, Box(0, 0, 10, 10))
    assert iou(strong.box, a.box) > iou(strong.box, b.box) >= 0.5
    assert iou(weak.box, b.box) >= 0.5
    # When matched
    # Then the strong one takes A (highest IoU), and the weak one takes what is left (B)
    assert verdicts([weak, strong], [a, b]) == [(Verdict.MATCH, 1), (Verdict.MATCH, 0)]


def test_past_100_boxes_of_a_class_on_one_image_are_not_evaluated() -> None:
    # Given 101 car predictions on an image, scores 0.100 ... 0.200, none on a reviewed box
    predicted = [pred("car", 0.1 + i / 1000, box(20.0 * i, 0)) for i in range(MAX_PER_CLASS + 1)]
    # When matched against a reviewed person far away
    match = match_image(predicted, [rev("person", box(0, 900))])
    # Then the lowest scored car is beyond the cap, the other 100 are extra
    assert match.verdicts[0].verdict is Verdict.BEYOND_CAP
    assert [v.verdict for v in match.verdicts[1:]] == [Verdict.EXTRA] * MAX_PER_CLASS


def test_classes_are_matched_apart() -> None:
    # Given a car prediction exactly on a reviewed person and a person prediction beside it
    reviewed = [rev("person", box(0, 0))]
    predicted = [pred("person", 0.4, box(3, 0)), pred("car", 0.9, box(0, 0))]
    # When matched
    # Then the person prediction (IoU 7/13 >= 0.5) matches; the car never matches a person
    assert verdicts(predicted, reviewed) == [(Verdict.MATCH, 0), (Verdict.EXTRA, None)]


@pytest.mark.parametrize("score", [1.5, -0.1, float("nan")])
def test_a_score_outside_0_1_is_refused_naming_it(score: float) -> None:
    # Given a score no detector gives
    # When a predicted box is made with it
    with pytest.raises(InvalidInput) as err:
        PredictedBox("car", score, box(0, 0))
    # Then the error names the field and the value
    assert err.value.field == "score"
    assert str(score) in err.value.message


def test_boxes_without_area_overlap_nothing() -> None:
    # Given an inverted box and a zero-width one
    inverted, flat = Box(10, 10, 0, 0), Box(5, 0, 5, 10)
    # Then their IoU with a box over them is 0
    assert iou(inverted, Box(0, 0, 10, 10)) == 0.0
    assert iou(flat, Box(0, 0, 10, 10)) == 0.0
