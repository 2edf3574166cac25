"""Label Studio export: label-studio-sdk's label interface accepts the generated config and every
task's predictions against it; regions are the tasks' boxes in percent."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

pytest.importorskip("label_studio_sdk", reason="label-studio-sdk reads the export back (dev extra)")

from label_studio_sdk.label_interface import LabelInterface

from prelabel.domain.entities import Project
from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.export_formats import ExportFormat
from prelabel.quality.priority import REST_VALUE
from tests.unit.exports.readers import Box, assert_same_boxes, task_boxes
from tests.unit.exports.samples import (
    CAR,
    MIXED,
    NAMES,
    NEAR_PRIORITY,
    PROJECT,
    REF,
    TASKS,
    export,
    label,
    task,
)


def _open(data: bytes) -> tuple[LabelInterface, list[dict[str, Any]], dict[str, Any]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    config = archive.read("labeling_config.xml").decode()
    tasks = json.loads(archive.read("tasks.json"))
    manifest = json.loads(archive.read("prelabel_export.json"))
    return LabelInterface(config), tasks, manifest


def _errors(interface: LabelInterface, tasks: list[dict[str, Any]]) -> list[str]:
    errors = []
    for item in tasks:
        # Every object tag's $variable must be in the task's data.
        if not interface.validate_task({"data": item["data"]}):
            errors.append(f"data {item['data']}")
        for prediction in item.get("predictions", []):
            errors += interface.validate_prediction(prediction, return_errors=True)
    return errors


def test_config_and_every_task_validate_with_label_studios_label_interface() -> None:
    # Given a project pre-labeled across datasets, with a box past the edge and an image not
    # read yet
    data, summary = export(PROJECT, MIXED, ExportFormat.LABEL_STUDIO)
    # When label-studio-sdk reads the labeling config and checks every task against it
    interface, tasks, manifest = _open(data)
    interface.validate()
    # Then the config offers one rectangle label per bbox entry, on the image
    control = interface.get_control("label")
    assert (control.tag, control.labels, control.to_name) == (
        "RectangleLabels",
        ["Vehicle", "Person"],
        ["image"],
    )
    # And every task's data and predictions are valid for it
    assert _errors(interface, tasks) == []
    # And every task is there, the image not read yet without predictions
    assert len(tasks) == summary.images == len(MIXED)
    assert [bool(t.get("predictions")) for t in tasks] == [True, True, True, True, False, False]
    assert [f["annotation"] for f in manifest["files"]] == ["tasks.json"] * len(MIXED)


def test_a_pre_labeled_task_carries_model_run_and_boxes_in_percent() -> None:
    # Given a 640x480 image with a car at (64, 48)-(192, 144) scored 0.91 and a person at 0.55
    data, _ = export(PROJECT, TASKS, ExportFormat.LABEL_STUDIO)
    _, tasks, _ = _open(data)
    first = tasks[0]
    # When its task is read
    # Then the image is its S3 URI and the task, run and review priority are in the data
    assert first["data"] == {
        "image": "s3://data/street/a.jpg",
        "prelabel_task_id": "t1",
        "prelabel_dataset_id": "ds1",
        "prelabel_state": "DONE",
        "prelabel_run_id": "run-1",
        "prelabel_review_priority": NEAR_PRIORITY,
    }
    # And the image without a box has the rest's priority, the one not read yet none
    assert [t["data"]["prelabel_review_priority"] for t in tasks[1:]] == [REST_VALUE, None]
    # And one prediction carries the model version, the run and the mean score
    (prediction,) = first["predictions"]
    assert (prediction["model_version"], prediction["prelabel_run_id"]) == (
        "yolox-s 0.4.4",
        "run-1",
    )
    assert prediction["score"] == round((0.91 + 0.55) / 2, 4)
    # And the car is a rectanglelabels region in percent of the original size, with its score
    assert prediction["result"][0] == {
        "id": CAR.label_id,
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": 640,
        "original_height": 480,
        "image_rotation": 0,
        "value": {
            "x": 10.0,
            "y": 10.0,
            "width": 20.0,
            "height": 20.0,
            "rotation": 0,
            "rectanglelabels": ["Vehicle"],
        },
        "score": 0.91,
    }
    # And the pre-labeled image without boxes, and the one not read yet, have no predictions
    assert "predictions" not in tasks[1] and "predictions" not in tasks[2]
    assert tasks[2]["data"]["prelabel_state"] is None


def test_regions_give_back_the_tasks_boxes_within_a_pixel() -> None:
    # Given the Label Studio export of mixed tasks
    data, _ = export(PROJECT, MIXED, ExportFormat.LABEL_STUDIO)
    _, tasks, _ = _open(data)
    # When each region's percent is turned back into pixels of its original size
    got: dict[str, list[Box]] = {}
    for item in tasks:
        if item["data"]["prelabel_state"] != "DONE":
            continue
        boxes = []
        for prediction in item.get("predictions", []):
            for r in prediction["result"]:
                w, h, v = r["original_width"], r["original_height"], r["value"]
                x1, y1 = v["x"] * w / 100, v["y"] * h / 100
                x2, y2 = x1 + v["width"] * w / 100, y1 + v["height"] * h / 100
                boxes.append((v["rectanglelabels"][0], x1, y1, x2, y2))
        got[item["data"]["prelabel_task_id"]] = sorted(boxes)
    # Then they are the task's labels, clipped to the image
    assert_same_boxes(got, task_boxes(MIXED, NAMES), tolerance_px=0.01)


def test_names_with_markup_and_repeated_names_still_validate() -> None:
    # Given two entries sharing a name with XML metacharacters, and a label of each
    project = Project(
        REF,
        "P",
        (
            LabelEntry("a", 'Car <&> "x"', Geometry.BBOX),
            LabelEntry("b", 'Car <&> "x"', Geometry.BBOX),
        ),
    )
    labels = (label("a", "x", (1.0, 2.0, 30.0, 40.0)), label("b", "x", (5.0, 6.0, 70.0, 80.0)))
    data, _ = export(project, [task("t1", "a.jpg", labels)], ExportFormat.LABEL_STUDIO)
    # When label-studio-sdk reads the export
    interface, tasks, _ = _open(data)
    interface.validate()
    # Then the name is one label, unchanged, and both regions are valid for it
    assert interface.get_control("label").labels == ['Car <&> "x"']
    assert _errors(interface, tasks) == []
    assert len(tasks[0]["predictions"][0]["result"]) == 2
