"""Detections become labels through the run's mapping snapshot."""

from __future__ import annotations

from prelabel.detector_wire import Detection
from prelabel.domain.entities import RunSnapshot
from prelabel.domain.mapping import LabelMapping, MappingRow
from prelabel.domain.prelabels import labels_from_detections

SNAPSHOT = RunSnapshot(
    mapping=LabelMapping(
        (
            MappingRow(2, "car", "veh"),
            MappingRow(7, "truck", "veh", min_confidence=0.8),
            MappingRow(0, "person", "per"),
        )
    ),
    default_threshold=0.5,
    entry_names={"veh": "Vehicle", "per": "Person"},
    batch_size=32,
)


def _labels(dets: list[Detection], scale: tuple[float, float] = (1.0, 1.0)):  # type: ignore[no-untyped-def]
    return labels_from_detections(
        dets, SNAPSHOT, scale=scale, image_size=(1000, 800), model=("m", "1"), task_id="t1"
    )


def test_thresholds_per_row_and_unmapped_classes() -> None:
    # Given a car at 0.6, a truck at 0.7 (row threshold 0.8), a person at 0.4, a dog at 0.99
    dets = [
        Detection(2, "car", 0.6, (10, 10, 50, 50)),
        Detection(7, "truck", 0.7, (10, 10, 50, 50)),
        Detection(0, "person", 0.4, (10, 10, 50, 50)),
        Detection(16, "dog", 0.99, (10, 10, 50, 50)),
    ]
    # When they are mapped
    labels = _labels(dets)
    # Then only the car passes: the truck misses its row's threshold, the person the default,
    # and the dog has no mapping row
    assert [(lbl.entry_name, lbl.detector_class) for lbl in labels] == [("Vehicle", "car")]
    assert labels[0].source == "AI_PRE_LABEL"
    assert (labels[0].model_name, labels[0].model_version) == ("m", "1")


def test_boxes_scale_to_original_pixels_and_clamp_to_the_image() -> None:
    # Given boxes in the pixels of a 4x smaller image, one hanging over the edge
    dets = [
        Detection(2, "car", 0.9, (10, 20, 30, 40)),
        Detection(0, "person", 0.9, (200, 150, 300, 250)),
    ]
    # When they are mapped with scale 4
    labels = _labels(dets, (4.0, 4.0))
    # Then the first is scaled, the second clamped to 1000x800
    assert labels[0].box.as_list() == [40.0, 80.0, 120.0, 160.0]
    assert labels[1].box.as_list() == [800.0, 600.0, 1000.0, 800.0]


def test_label_ids_are_the_same_when_a_batch_is_retried() -> None:
    # Given the same detections mapped twice (a retried batch)
    dets = [Detection(2, "car", 0.9, (1, 1, 5, 5)), Detection(0, "person", 0.9, (1, 1, 5, 5))]
    # Then the label ids are equal and distinct within the task
    first, second = _labels(dets), _labels(dets)
    assert [lbl.label_id for lbl in first] == [lbl.label_id for lbl in second]
    assert len({lbl.label_id for lbl in first}) == 2
