"""The score floor the worker asks the detector for: the run's lowest threshold, so a
threshold below the detector's usual floor still delivers its boxes (issue 21, item 1)."""

from __future__ import annotations

import pytest

from prelabel.detector_wire import Detection
from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import InvalidInput
from prelabel.domain.mapping import MappingRowInput, detector_score_floor
from tests.unit.fakes.world import World

# Three boxes per image, one under 0.25 (the floor the endpoint was once always asked for).
LOW_CAR = Detection(2, "car", 0.07, (10.0, 10.0, 50.0, 40.0))
MID_CAR = Detection(2, "car", 0.4, (12.0, 30.0, 40.0, 44.0))
PERSON = Detection(0, "person", 0.8, (60.0, 5.0, 90.0, 60.0))


def _run(world: World, rows: list[MappingRowInput], default: float) -> ProjectRef:
    ref = world.project(waiting=3)
    world.project_service.replace_mapping(ref, rows, default)
    outcome = world.run_service.start(ref, confirm=True)
    assert outcome.run is not None
    world.prepare(ref, outcome.run.run_id)
    world.run_all(outcome.run.run_id)
    return ref


def _world() -> World:
    world = World()
    world.detector.answer = lambda _: [LOW_CAR, MID_CAR, PERSON]
    return world


def test_the_detector_is_asked_for_the_lowest_threshold_the_mapping_uses() -> None:
    # Given car at 0.05, person at 0.6 and a default of 0.5 that no row uses... and one that does
    world = _world()
    rows = [MappingRowInput("car", "veh", 0.05), MappingRowInput("person", "per", 0.6)]
    # When a run pre-labels three images
    ref = _run(world, rows, 0.5)
    # Then every call asked for boxes down to 0.05, and the 0.07 car reached the pre-labels
    assert world.detector.floors == [0.05]
    labels = world.tasks.get(ref, "t0000").labels
    assert sorted(lbl.score for lbl in labels) == [0.07, 0.4, 0.8]


def test_a_default_threshold_below_the_rows_is_the_floor_where_a_row_uses_it() -> None:
    # Given car at 0.6 and person on the default 0.2
    world = _world()
    rows = [MappingRowInput("car", "veh", 0.6), MappingRowInput("person", "per", None)]
    # When the run pre-labels
    ref = _run(world, rows, 0.2)
    # Then the floor is the default (0.2), and each class still keeps its own threshold
    assert world.detector.floors == [0.2]
    assert [lbl.detector_class for lbl in world.tasks.get(ref, "t0001").labels] == ["person"]


def test_a_mapping_at_0_5_only_asks_for_0_5() -> None:
    # Given every row on the default 0.5
    world = _world()
    rows = [MappingRowInput("car", "veh", None), MappingRowInput("person", "per", None)]
    # When the run pre-labels
    ref = _run(world, rows, 0.5)
    # Then the detector was asked for 0.5, and only the 0.8 person comes back
    assert world.detector.floors == [0.5]
    assert [lbl.score for lbl in world.tasks.get(ref, "t0002").labels] == [0.8]


def test_a_default_threshold_that_no_row_uses_does_not_lower_the_floor() -> None:
    # Given explicit thresholds on both rows (0.3, 0.6) and a default of 0.01 that none uses
    world = _world()
    rows = [MappingRowInput("car", "veh", 0.3), MappingRowInput("person", "per", 0.6)]
    # When the run pre-labels
    _run(world, rows, 0.01)
    # Then the floor is the lowest threshold in use, 0.3: no box below it could be kept
    assert world.detector.floors == [0.3]


@pytest.mark.parametrize("value", [0.0, 0.009, 0.0001])
def test_thresholds_under_0_01_are_refused_naming_the_field_and_value(value: float) -> None:
    # Given a project whose mapping is being replaced
    world = _world()
    ref = world.project(waiting=1)
    rows = [MappingRowInput("car", "veh", None)]
    # When the default threshold is under 0.01
    with pytest.raises(InvalidInput) as err:
        world.project_service.replace_mapping(ref, rows, value)
    # Then the error names default_threshold and the value, and the old mapping stands
    assert err.value.field == "default_threshold"
    assert f"default_threshold: {value} is below 0.01" in err.value.message
    assert world.projects.get(ref).default_threshold == 0.5


def test_a_mapping_saved_before_the_minimum_asks_for_0_01_not_zero() -> None:
    # Given a snapshot whose mapping predates the 0.01 minimum (a row at 0.0)
    from prelabel.domain.mapping import LabelMapping, MappingRow

    mapping = LabelMapping((MappingRow(2, "car", "veh", 0.0), MappingRow(0, "person", "per")))
    # When its floor is computed
    floor = detector_score_floor(mapping, 0.5)
    # Then it is 0.01: the detector is never asked for every candidate box it has
    assert floor == 0.01
    # And a mapping without rows asks for its default
    assert detector_score_floor(LabelMapping(()), 0.35) == 0.35
