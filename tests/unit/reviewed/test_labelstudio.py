"""Label Studio's JSON export: people's latest annotation, percent to pixels, rotations, the image
field, and what is not a box."""

from __future__ import annotations

import json
from typing import Any

import pytest

from prelabel.reviewed import Finding, ReviewedFileError, ReviewFormat, read_reviewed


def _region(
    x: float,
    y: float,
    w: float,
    h: float,
    labels: list[str],
    size: tuple[int, int] = (800, 600),
    **extra: Any,
) -> dict[str, Any]:
    value: dict[str, Any] = {"x": x, "y": y, "width": w, "height": h, "rotation": 0}
    value["rectanglelabels"] = labels
    value.update(extra.pop("value", {}))
    return {
        "id": "r1",
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": size[0],
        "original_height": size[1],
        "image_rotation": 0,
        "value": value,
        **extra,
    }


def _task(data: dict[str, Any], *annotations: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": 1, "data": data, "annotations": list(annotations), "predictions": [], **extra}


def _annotation(
    result: list[dict[str, Any]], when: str = "2026-11-04T08:00:00Z", **extra: Any
) -> dict[str, Any]:
    return {
        "id": 7,
        "result": result,
        "was_cancelled": False,
        "created_at": when,
        "updated_at": when,
        **extra,
    }


def _read(*tasks: dict[str, Any], image_field: str | None = None):  # type: ignore[no-untyped-def]
    return read_reviewed(
        json.dumps(list(tasks)).encode(), ReviewFormat.LABEL_STUDIO, image_field=image_field
    )


IMAGE = {"image": "s3://data/street/a.jpg"}


def test_percent_of_the_original_size_becomes_pixels() -> None:
    # Given a region at x=50%, y=25%, 10% wide, 20% high on an 800x600 image
    read = _read(_task(IMAGE, _annotation([_region(50, 25, 10, 20, ["Car"])])))
    # When read
    (image,) = read.images
    # Then the box is (400, 150)-(480, 270) in pixels, and the image 800x600
    assert [(b.label, b.box.as_list()) for b in image.boxes] == [
        ("Car", [400.0, 150.0, 480.0, 270.0])
    ]
    assert image.size == (800, 600)
    assert (image.ref.bucket, image.ref.key, image.ref.file_name) == (
        "data",
        "street/a.jpg",
        "a.jpg",
    )


def test_a_rotated_rectangle_becomes_the_box_around_it_turned_about_its_top_left_corner() -> None:
    # Given a 200x100 px rectangle at (100, 100) of a 1000x1000 image, turned 90 degrees
    # clockwise about its top-left corner (Label Studio's convention)
    region = _region(10, 10, 20, 10, ["Car"], size=(1000, 1000), value={"rotation": 90})
    read = _read(_task(IMAGE, _annotation([region])))
    # When read
    (box,) = read.images[0].boxes
    # Then the box is the one around the turned rectangle: it now hangs left of the corner
    assert box.box.as_list() == pytest.approx([0.0, 100.0, 100.0, 300.0])
    # And the report says one box was kept as its bounding box
    assert read.report.count(Finding.ROTATED) == 1


def test_a_region_on_an_image_turned_in_the_editor_is_dropped() -> None:
    # Given a region drawn while the image was shown turned by 90 degrees
    region = _region(10, 10, 20, 10, ["Car"], image_rotation=90)
    read = _read(_task(IMAGE, _annotation([region, _region(1, 1, 5, 5, ["Car"])])))
    # When read
    # Then that box is dropped and counted, the other one kept
    assert len(read.images[0].boxes) == 1
    assert read.images[0].dropped == 1
    assert read.report.findings[Finding.IMAGE_ROTATED].examples == (
        "tasks[0].annotations[0].result[0]",
    )


def test_only_the_latest_annotation_not_cancelled_counts_and_predictions_never() -> None:
    # Given a task with a prediction, an old annotation, a newer cancelled one and the latest
    old = _annotation([_region(0, 0, 10, 10, ["Old"])], "2026-11-01T08:00:00Z", id=1)
    cancelled = _annotation(
        [_region(0, 0, 10, 10, ["Cancelled"])], "2026-11-09T08:00:00Z", id=3, was_cancelled=True
    )
    latest = _annotation([_region(0, 0, 10, 10, ["Latest"])], "2026-11-05T08:00:00Z", id=2)
    prediction = {"model_version": "m", "result": [_region(0, 0, 10, 10, ["Predicted"])]}
    read = _read(_task(IMAGE, old, cancelled, latest, predictions=[prediction]))
    # When read
    # Then the boxes are the latest annotation's
    assert [b.label for b in read.images[0].boxes] == ["Latest"]


def test_tasks_nobody_annotated_are_counted_not_imported() -> None:
    # Given a task with predictions only, one with a cancelled annotation, and one whose
    # annotation holds no region (the reviewer found no object)
    predicted = _task(
        {"image": "s3://data/p.jpg"}, predictions=[{"result": [_region(0, 0, 5, 5, ["Car"])]}]
    )
    skipped = _task({"image": "s3://data/s.jpg"}, _annotation([], was_cancelled=True))
    empty = _task({"image": "s3://data/e.jpg"}, _annotation([]))
    read = _read(predicted, skipped, empty)
    # When read
    # Then only the empty one is a reviewed image, with no boxes
    assert [(i.ref.key, i.boxes) for i in read.images] == [("e.jpg", ())]
    # And the other two are reported as not reviewed, by their image
    tally = read.report.findings[Finding.UNREVIEWED_IMAGE]
    assert (tally.count, tally.examples) == (2, ("s3://data/p.jpg", "s3://data/s.jpg"))
    assert read.report.images_found == 3


def test_results_that_are_not_boxes_are_skipped_and_counted() -> None:
    # Given a rectangle, a polygon, a choice and a text span's labels
    polygon = {
        "type": "polygonlabels",
        "value": {"points": [[1, 1], [5, 1], [5, 5]], "polygonlabels": ["Road"]},
        "original_width": 800,
        "original_height": 600,
    }
    choice = {"type": "choices", "value": {"choices": ["Night"]}}
    span = {"type": "labels", "value": {"start": 0, "end": 4, "labels": ["Name"]}}
    read = _read(_task(IMAGE, _annotation([_region(1, 1, 5, 5, ["Car"]), polygon, choice, span])))
    # When read
    # Then one box, and three annotations skipped as not boxes, each named with its type
    assert len(read.images[0].boxes) == 1
    tally = read.report.findings[Finding.NOT_A_BOX]
    assert tally.count == 3
    assert tally.examples[0] == "tasks[0].annotations[0].result[1] ('polygonlabels')"
    assert read.report.boxes_found == 1


def test_a_region_with_two_labels_is_one_box_per_label() -> None:
    # Given a region labelled both Car and Truck (choice="multiple")
    read = _read(_task(IMAGE, _annotation([_region(1, 1, 5, 5, ["Car", "Truck"])])))
    # When read
    # Then there are two boxes at the same place
    boxes = read.images[0].boxes
    assert [b.label for b in boxes] == ["Car", "Truck"]
    assert boxes[0].box == boxes[1].box


def test_a_box_past_the_edge_is_clipped_and_counted() -> None:
    # Given a region from x=90% that is 20% wide
    read = _read(_task(IMAGE, _annotation([_region(90, 10, 20, 10, ["Car"])])))
    # When read
    # Then it ends at the image's right edge
    assert read.images[0].boxes[0].box.as_list() == [720.0, 60.0, 800.0, 120.0]
    assert read.report.count(Finding.CLIPPED) == 1


def test_the_image_field_is_found_or_named() -> None:
    # Given tasks whose image is in `photo` (an uploaded file), next to other text data
    data = {
        "photo": "/data/upload/3/1a2b3c4d-cat.jpg",
        "caption": "a cat",
        "source": "https://example.com/page",
    }
    region = _region(1, 1, 5, 5, ["Cat"], to_name="img")
    # When read without naming the field
    read = _read(_task(data, _annotation([region])))
    # Then the one value that looks like an image is taken, and Label Studio's upload prefix
    # is dropped from the file name
    assert (read.images[0].ref.written, read.images[0].ref.file_name) == (data["photo"], "cat.jpg")
    # And when two values look like images, the task is refused until the field is named
    two = {"left": "s3://data/l.jpg", "right": "s3://data/r.jpg"}
    read = _read(_task(two, _annotation([region])))
    assert read.images == ()
    (example,) = read.report.findings[Finding.MALFORMED_IMAGE].examples
    assert example.startswith("tasks[0].data: several images")
    assert "name the image field" in example
    read = _read(_task(two, _annotation([region])), image_field="right")
    assert read.images[0].ref.key == "r.jpg"


def test_the_results_to_name_picks_the_field() -> None:
    # Given data with two images, and results drawn on the tag named like one of them
    data = {"left": "s3://data/l.jpg", "right": "s3://data/r.jpg"}
    region = _region(1, 1, 5, 5, ["Car"], to_name="right")
    # When read
    read = _read(_task(data, _annotation([region])))
    # Then the image is the one the results point at
    assert read.images[0].ref.key == "r.jpg"


def test_json_min_and_other_shapes_are_refused_with_what_to_do() -> None:
    # Given Label Studio's JSON-MIN export (flat rows) and a COCO document sent as Label Studio
    json_min = [
        {"image": "s3://data/a.jpg", "id": 1, "label": [], "annotator": 1, "annotation_id": 3}
    ]
    # When read as Label Studio
    # Then both are refused, saying what the file is and what is expected
    with pytest.raises(
        ReviewedFileError,
        match=r"tasks\[0\]: this is Label Studio's JSON-MIN export; export as JSON",
    ):
        read_reviewed(json.dumps(json_min).encode(), ReviewFormat.LABEL_STUDIO)
    with pytest.raises(ReviewedFileError, match=r"file: not a Label Studio JSON export"):
        read_reviewed(b'{"images": []}', ReviewFormat.LABEL_STUDIO)


def test_a_region_without_original_size_or_label_is_malformed_and_named() -> None:
    # Given a region without original_width and one without a label
    no_size = _region(1, 1, 5, 5, ["Car"])
    del no_size["original_width"]
    no_label = _region(1, 1, 5, 5, [])
    read = _read(_task(IMAGE, _annotation([no_size, no_label, _region(1, 1, 5, 5, ["Car"])])))
    # When read
    # Then the good box is kept and the others are dropped, each named by its place
    assert len(read.images[0].boxes) == 1
    assert read.report.findings[Finding.MALFORMED_BOX].examples == (
        "tasks[0].annotations[0].result[0].original_width: missing: percent cannot become pixels",
        "tasks[0].annotations[0].result[1].value.rectanglelabels: no label",
    )
