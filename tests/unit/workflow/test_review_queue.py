"""The review priority a run gives each pre-label, and the task list in review order."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from prelabel.detector_wire import Detection
from prelabel.domain.entities import LabelingState, ProjectRef
from prelabel.domain.errors import InvalidInput
from prelabel.ports.tasks import TaskFilter, TaskOrder
from prelabel.quality.priority import REST_VALUE, ReviewTier
from tests.unit.fakes.world import BUCKET, ORG, World, jpeg

REVIEW = TaskFilter(order=TaskOrder.REVIEW)


def _car(score: float) -> Detection:
    return Detection(2, "car", score, (10.0, 10.0, 50.0, 40.0))


def _person(score: float) -> Detection:
    return Detection(0, "person", score, (60.0, 5.0, 90.0, 60.0))


# Images 64 px wide (the detector's input size: sent as they are), told apart by their
# height: what the scripted detector sees in each (the threshold is 0.5 for both classes).
SCENES = {
    30: [_car(0.97), _person(0.95)],  # sure: the rest
    31: [_car(0.515)],  # 0.015 above: near
    32: [_car(0.53), _car(0.55), _person(0.58)],  # three low boxes: many low
    33: [_car(0.5101), _person(0.9)],  # 0.010 above: the nearest
    34: [],  # nothing found: the rest
}


def _scene(image: bytes) -> list[Detection]:
    return SCENES[Image.open(BytesIO(image)).height]


def _labeled(world: World) -> ProjectRef:
    """The five images pre-labeled, and a BACKLOG task (t0005) that is not."""
    ref = world.project(waiting=len(SCENES), backlog=1)
    for i, height in enumerate(SCENES):
        world.objects.put(BUCKET, f"{ORG}/img_{i:04d}.jpg", jpeg(64, height))
    world.detector.answer = _scene
    outcome = world.run_service.start(ref, confirm=True)
    assert outcome.run is not None
    world.prepare(ref, outcome.run.run_id)
    world.run_all(outcome.run.run_id)
    return ref


def test_a_run_gives_each_pre_label_its_priority_from_the_runs_thresholds() -> None:
    # Given five images, their boxes at various distances above the 0.5 threshold
    # When a run pre-labels them
    world = World(batch_size=8)
    _labeled(world)
    # Then the commit carries each task's priority, computed from its boxes and thresholds
    done = {d.task_id: d.review for d in world.db.commits[-1].done}
    assert [done[f"t{i:04d}"].tier for i in range(5)] == [
        ReviewTier.REST,
        ReviewTier.NEAR,
        ReviewTier.MANY_LOW,
        ReviewTier.NEAR,
        ReviewTier.REST,
    ]
    assert (done["t0003"].nearest, done["t0001"].nearest) == (10, 15)


def test_review_order_lists_the_nearest_first_and_pages_through_the_rest_by_id() -> None:
    # Given the five images pre-labeled, and a BACKLOG task not pre-labeled
    world = World(batch_size=8)
    ref = _labeled(world)
    # When the list is read in review order, two at a time
    seen, cursor = [], None
    while True:
        page = world.tasks.list_tasks(ref, REVIEW, 2, cursor)
        seen += page.tasks
        cursor = page.cursor
        if cursor is None:
            break
    # Then the nearest box's image, the next nearest, the many-low one, then the rest by id;
    # the task without a pre-label is not listed
    assert [t.task_id for t in seen] == ["t0003", "t0001", "t0002", "t0000", "t0004"]
    assert [t.review_priority for t in seen][-2:] == [REST_VALUE, REST_VALUE]
    assert seen[0].review_priority is not None and seen[0].review_priority < REST_VALUE


@pytest.mark.parametrize(
    ("flt", "field"),
    [
        (dict(state=LabelingState.WAITING), "state"),
        (dict(dataset_id="ds1"), "dataset_id"),
        (dict(prelabeled=False), "prelabeled"),
    ],
)
def test_review_order_refuses_filters_its_index_cannot_serve(
    flt: dict[str, object], field: str
) -> None:
    # Given review order with a filter the review index does not hold
    # When the filter is made
    with pytest.raises(InvalidInput) as refused:
        TaskFilter(order=TaskOrder.REVIEW, **flt)  # type: ignore[arg-type]
    # Then it is refused, naming the parameter
    assert refused.value.field == field
    assert "order=review" in refused.value.message
    # And pre-labeled tasks only is what review order lists anyway: accepted
    assert TaskFilter(prelabeled=True, order=TaskOrder.REVIEW).order is TaskOrder.REVIEW
