"""The review priority: near-threshold boxes first, then many low-score boxes, then the rest."""

from __future__ import annotations

from prelabel.domain.entities import Box, Label
from prelabel.quality.priority import (
    KEY_DIGITS,
    REST_KEY,
    REST_VALUE,
    ReviewTier,
    key_value,
    labels_priority,
    review_priority,
)


def _order(tasks: dict[str, list[tuple[float, float]]]) -> list[str]:
    """Task names in review order (key, then name as the index's task id does)."""
    return sorted(tasks, key=lambda name: (review_priority(tasks[name]).key, name))


def test_the_box_nearest_its_threshold_comes_first_then_many_low_boxes_then_the_rest() -> None:
    # Given images whose boxes lie at various distances above their thresholds
    tasks = {
        "sure": [(0.95, 0.5), (0.9, 0.5)],
        "many-low": [(0.53, 0.5), (0.55, 0.5), (0.58, 0.5), (0.95, 0.5)],
        "near-0.015": [(0.315, 0.3)],
        "near-0.001": [(0.501, 0.5), (0.99, 0.5)],
        "two-low": [(0.53, 0.5), (0.55, 0.5)],
        "empty": [],
    }
    # When they are put in review order
    order = _order(tasks)
    # Then the nearest box first, the next nearest, then the image with 3 low boxes, then the
    # rest (two low boxes are not "many"; no box at all is nothing to doubt) by name
    assert order == ["near-0.001", "near-0.015", "many-low", "empty", "sure", "two-low"]
    tiers = [review_priority(tasks[name]).tier for name in order]
    assert tiers == [ReviewTier.NEAR] * 2 + [ReviewTier.MANY_LOW] + [ReviewTier.REST] * 3


def test_equal_margins_put_the_image_with_more_low_score_boxes_first() -> None:
    # Given two images whose nearest box is 0.010 above its threshold
    few = review_priority([(0.51, 0.5)])
    many = review_priority([(0.51, 0.5), (0.56, 0.5), (0.58, 0.5), (0.59, 0.5)])
    # When their keys are compared
    # Then the one with 4 low-score boxes comes before the one with 1
    assert (many.nearest, few.nearest) == (10, 10)
    assert (many.low_boxes, few.low_boxes) == (4, 1)
    assert many.key < few.key


def test_among_many_low_score_boxes_more_boxes_first_then_the_nearest() -> None:
    # Given images without a near box but with 3, 5 and 5 low-score boxes
    three = review_priority([(0.53, 0.5)] * 3)
    five_far = review_priority([(0.58, 0.5)] * 5)
    five_near = review_priority([(0.525, 0.5)] * 5)
    # When ordered
    # Then more low boxes first; equal counts, the nearer first
    assert sorted([three.key, five_far.key, five_near.key]) == [
        five_near.key,
        five_far.key,
        three.key,
    ]


def test_keys_are_fixed_width_digits_whose_string_order_is_their_number_order() -> None:
    # Given priorities of every tier, with extreme counts (150 low boxes count as 99)
    samples = [
        review_priority([(0.5, 0.5)] * 150),
        review_priority([(0.519, 0.5)]),
        review_priority([(0.52, 0.5)] * 3),
        review_priority([(0.599, 0.5)] * 3),
        review_priority([(1.0, 0.5)]),
        review_priority([]),
    ]
    keys = [p.key for p in samples]
    # When read as text and as numbers
    # Then every key has KEY_DIGITS digits, and both orders agree
    assert all(len(k) == KEY_DIGITS and k.isdigit() for k in keys)
    assert sorted(keys) == sorted(keys, key=int)
    assert [p.value for p in samples] == [int(k) for k in keys]
    assert keys[-2:] == [REST_KEY, REST_KEY] and samples[-1].value == REST_VALUE
    # And a stored index key (key + task id) reads back as the number
    assert key_value(keys[1] + "t_0123abcd") == samples[1].value


def test_margins_are_read_in_ten_thousandths_so_float_noise_moves_no_box_across_a_tier() -> None:
    # Given boxes exactly 0.02 and 0.10 above their thresholds (0.41 - 0.39 is 0.01999... as
    # floats, 0.4 - 0.3 is 0.10000...03)
    at_near_edge = review_priority([(0.41, 0.39)])
    below_edge = review_priority([(0.3199, 0.3)])
    at_low_edge = review_priority([(0.4, 0.3)] * 3)
    # When their tiers are read
    # Then 0.02 above is not near, 0.0199 is; 0.10 above is not low
    assert at_near_edge.tier is not ReviewTier.NEAR and at_near_edge.nearest == 20
    assert (below_edge.tier, below_edge.nearest) == (ReviewTier.NEAR, 19)
    assert (at_low_edge.tier, at_low_edge.low_boxes) == (ReviewTier.REST, 0)
    # And a score rounded a hair under its threshold (stored to 4 decimals) counts as on it
    assert review_priority([(0.29996, 0.3)]).nearest == 0


def _label(cls: str, score: float) -> Label:
    return Label("l", "e", "E", Box(0, 0, 1, 1), cls, score, "m", "1")


def test_each_box_is_measured_against_its_own_classs_threshold() -> None:
    # Given a run whose mapping sets car at 0.3, person at 0.05, and 0.5 for other classes
    thresholds = {"car": 0.3, "person": 0.05}
    # When a 0.31 car, a 0.31 person and a 0.515 dog are prioritized
    car = labels_priority([_label("car", 0.31)], thresholds, 0.5)
    person = labels_priority([_label("person", 0.31)], thresholds, 0.5)
    dog = labels_priority([_label("dog", 0.515)], thresholds, 0.5)
    # Then the car is 0.01 above its threshold, the person 0.26 above its own (the rest),
    # and the dog 0.015 above the default
    assert (car.tier, car.nearest) == (ReviewTier.NEAR, 10)
    assert (person.tier, person.queued) == (ReviewTier.REST, False)
    assert (dog.tier, dog.nearest, dog.queued) == (ReviewTier.NEAR, 15, True)
