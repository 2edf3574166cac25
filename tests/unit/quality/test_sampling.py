"""The review sample's draw: stratified by class, sized by the Wilson bound, fixed by its seed."""

from __future__ import annotations

import random

import pytest

from prelabel.domain.errors import InvalidInput
from prelabel.quality.bounds import boxes_needed, wilson_lower
from prelabel.quality.sampling import (
    DEFAULT_BOXES_PER_CLASS,
    StratifiedSampler,
    rank,
)

# 600 tasks: every one with 0-3 cars, one in five with a person, one in fifty with a dog.
rng = random.Random(5)
TASKS: list[tuple[str, dict[str, int]]] = [
    (
        f"t_{i:04d}",
        {
            "car": rng.randrange(4),
            "person": 1 if i % 5 == 0 else 0,
            "dog": 2 if i % 50 == 0 else 0,
        },
    )
    for i in range(600)
]
COUNTS = dict(TASKS)


def _draw(boxes: int, seed: int, tasks: list[tuple[str, dict[str, int]]]) -> StratifiedSampler:
    sampler = StratifiedSampler(boxes, seed)
    for task_id, counts in tasks:
        sampler.add(task_id, counts)
    return sampler


def test_each_class_gets_its_boxes_from_the_lowest_ranked_tasks_or_all_it_has() -> None:
    # Given 600 tasks with many cars, some persons and 12 tasks with two dogs each
    # When 40 boxes a class are drawn
    sampler = _draw(40, seed=7, tasks=TASKS)
    draws = {d.class_key: d for d in sampler.draws()}
    # Then cars and persons have at least 40 boxes, and would not without their last task
    for cls in ("car", "person"):
        draw = draws[cls]
        assert draw.boxes >= 40 and not draw.short
        assert draw.boxes - COUNTS[draw.tasks[-1]][cls] < 40
        # And they are the lowest-ranked tasks holding the class: a random, not a first, few
        holding = sorted((rank(7, t), t) for t, c in TASKS if c[cls])
        assert list(draw.tasks) == [t for _, t in holding[: len(draw.tasks)]]
    # And the dog ran short: all its 24 boxes in 12 tasks are in the sample
    assert (draws["dog"].boxes, len(draws["dog"].tasks), draws["dog"].short) == (24, 12, True)
    # And the sample is the union of the draws, each task once
    union = set().union(*(d.tasks for d in draws.values()))
    assert sampler.chosen() == sorted(union)


def test_the_seed_fixes_the_sample_whatever_the_order_slicing_or_repeats_of_the_pass() -> None:
    # Given one draw in task order in one go
    whole = _draw(30, seed=11, tasks=TASKS).chosen()
    # When the same seed reads the tasks shuffled, in slices of 37 stored and read back in
    # between, and with one slice read twice (a step rerun after a crash)
    shuffled = TASKS[:]
    random.Random(2).shuffle(shuffled)
    sampler = StratifiedSampler(30, seed=11)
    for start in range(0, len(shuffled), 37):
        part = shuffled[start : start + 37]
        for task_id, counts in part:
            sampler.add(task_id, counts)
        if start == 74:
            for task_id, counts in part:
                sampler.add(task_id, counts)
        sampler = StratifiedSampler.from_dict(sampler.to_dict())
    # Then the sample is the same; another seed draws another one
    assert sampler.chosen() == whole
    assert _draw(30, seed=12, tasks=TASKS).chosen() != whole


def test_over_many_seeds_every_task_is_as_likely_to_be_drawn() -> None:
    # Given 400 tasks of one box of one class, 40 boxes asked for
    tasks = [(f"t{i:03d}", {"car": 1}) for i in range(400)]
    # When 100 seeds draw
    first_half = 0
    drawn = set()
    for seed in range(100):
        chosen = _draw(40, seed, tasks).chosen()
        assert len(chosen) == 40
        first_half += sum(1 for t in chosen if t < "t200")
        drawn.update(chosen)
    # Then half the draws come from each half of the ids, and nearly every task came up
    assert 0.45 < first_half / 4000 < 0.55
    assert len(drawn) > 390


def test_the_default_size_is_what_a_class_right_95_percent_of_the_time_needs_for_0_9() -> None:
    # Given the default target precision 0.9 and a class whose boxes are 95% right
    # When the default number of boxes a class is read
    # Then it is the fewest at which the Wilson lower bound of 95% reaches 0.9: 139
    assert DEFAULT_BOXES_PER_CLASS == boxes_needed(0.95, 0.9) == 139
    lower_at = wilson_lower(0.95 * 139, 139)
    lower_before = wilson_lower(0.95 * 138, 138)
    assert lower_at is not None and lower_at >= 0.9
    assert lower_before is not None and lower_before < 0.9


@pytest.mark.parametrize("boxes", [0, -3, 1001])
def test_a_size_outside_1_to_1000_is_refused_naming_it(boxes: int) -> None:
    # Given a size outside the bounds
    # When a sampler is made with it
    with pytest.raises(InvalidInput) as refused:
        StratifiedSampler(boxes, seed=1)
    # Then the field and the value are named
    assert refused.value.field == "boxes_per_class" and str(boxes) in refused.value.message
