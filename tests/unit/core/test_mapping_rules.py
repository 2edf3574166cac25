"""The label-mapping rules of the spec, on the pure domain."""

from __future__ import annotations

import pytest

from prelabel.domain.errors import InvalidInput
from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.domain.mapping import MappingRowInput, build_mapping

CONFIG = (
    LabelEntry("veh", "Vehicle", Geometry.BBOX),
    LabelEntry("per", "Person", Geometry.BBOX),
    LabelEntry("road", "Road", Geometry.POLYGON),
)


def test_many_classes_map_to_one_entry_and_names_or_ids_both_resolve() -> None:
    # Given car (by name) and truck (by id 7) both pointing at Vehicle
    rows = [MappingRowInput("car", "veh"), MappingRowInput(7, "veh", 0.7)]
    # When the mapping is built
    mapping = build_mapping(rows, CONFIG)
    # Then both rows target Vehicle, truck keeps its own threshold and car uses the default
    assert [(r.class_name, r.entry_id) for r in mapping.rows] == [("car", "veh"), ("truck", "veh")]
    car, truck = mapping.rows
    assert mapping.threshold_for(car, 0.5) == 0.5
    assert mapping.threshold_for(truck, 0.5) == 0.7
    assert mapping.row_for(7) == truck
    assert mapping.row_for(0) is None


@pytest.mark.parametrize(
    ("rows", "field", "words"),
    [
        ([MappingRowInput("spaceship", "veh")], "rows[0].detector_class", "'spaceship'"),
        ([MappingRowInput(80, "veh")], "rows[0].detector_class", "80"),
        ([MappingRowInput("car", "nope")], "rows[0].entry_id", "'nope'"),
        ([MappingRowInput("car", "road")], "rows[0].entry_id", "polygon"),
        (
            [MappingRowInput("car", "veh"), MappingRowInput("car", "per")],
            "rows[1].detector_class",
            "already mapped in rows[0]",
        ),
        ([MappingRowInput("car", "veh", 1.5)], "rows[0].min_confidence", "1.5"),
        ([MappingRowInput("car", "veh", -0.1)], "rows[0].min_confidence", "-0.1"),
        ([MappingRowInput("car", "veh", 0.005)], "rows[0].min_confidence", "0.005 is below 0.01"),
        ([MappingRowInput("car", "veh", 0.0)], "rows[0].min_confidence", "0.0 is below 0.01"),
    ],
)
def test_bad_rows_are_rejected_naming_the_row_and_value(
    rows: list[MappingRowInput], field: str, words: str
) -> None:
    # Given a mapping with one offending row
    # When it is built
    with pytest.raises(InvalidInput) as err:
        build_mapping(rows, CONFIG)
    # Then the error names the row's field and the bad value
    assert err.value.field == field
    assert field in err.value.message
    assert words in err.value.message


def test_a_project_without_bbox_entries_cannot_configure_prelabeling() -> None:
    # Given a label configuration with only a polygon entry
    config = (LabelEntry("road", "Road", Geometry.POLYGON),)
    # When even an empty mapping is built for it
    with pytest.raises(InvalidInput) as err:
        build_mapping([], config)
    # Then the error says there is no bbox entry
    assert "no bbox entry" in err.value.message
    assert err.value.field == "label_config"


def test_detector_classes_use_coco_names_and_accept_voc_style_aliases() -> None:
    # Given the published COCO-80 classes
    from prelabel.domain.detector_classes import DETECTOR_CLASSES, resolve_class

    # Then ids and canonical names follow COCO-80 order, and VOC-style names resolve to them
    assert len(DETECTOR_CLASSES) == 80
    assert (DETECTOR_CLASSES[3].name, DETECTOR_CLASSES[79].name) == ("motorcycle", "toothbrush")
    assert resolve_class("motorbike").id == 3
    assert resolve_class("TV").name == "tv"
