"""COCO export: exact content for known labels; pycocotools and supervision load it as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pycocotools", reason="pycocotools reads the export back (dev extra)")

from pycocotools.coco import COCO

from prelabel.export_formats import ExportFormat
from prelabel.quality.priority import REST_VALUE
from tests.unit.exports.readers import (
    assert_same_boxes,
    coco_dataset,
    dataset_boxes,
    task_boxes,
)
from tests.unit.exports.samples import (
    CAR,
    MIXED,
    NAMES,
    NEAR_PRIORITY,
    PROJECT,
    TASKS,
    export,
    label,
    task,
)


def test_known_labels_give_exact_coco_content() -> None:
    # Given a project with two bbox entries around a polygon, and three tasks (one not read yet)
    # When the COCO document is written
    data, summary = export(PROJECT, TASKS, ExportFormat.COCO)
    doc = json.loads(data)
    # Then categories are the bbox entries only, 1-based, in configuration order
    assert doc["categories"] == [
        {"id": 1, "name": "Vehicle", "supercategory": "", "prelabel_entry_id": "veh"},
        {"id": 2, "name": "Person", "supercategory": "", "prelabel_entry_id": "per"},
    ]
    # And every task is an image named by its key; the one not read yet has null size
    assert [(i["id"], i["file_name"], i["width"], i["height"]) for i in doc["images"]] == [
        (1, "street/a.jpg", 640, 480),
        (2, "street/b.png", 640, 480),
        (3, "street/c.jpg", None, None),
    ]
    assert [i["prelabel_state"] for i in doc["images"]] == ["DONE", "DONE", None]
    assert doc["images"][0]["prelabel_run_id"] == "run-1"
    # And each image carries its review priority (none before its pre-label)
    priorities = [i["prelabel_review_priority"] for i in doc["images"]]
    assert priorities == [NEAR_PRIORITY, REST_VALUE, None]
    assert doc["images"][0]["prelabel_bucket"] == "data"
    # And boxes are [x, y, w, h] with area, iscrowd 0 and the pre-label's provenance
    assert doc["annotations"][0] == {
        "id": 1,
        "image_id": 1,
        "category_id": 1,
        "bbox": [64.0, 48.0, 128.0, 96.0],
        "area": 128.0 * 96.0,
        "iscrowd": 0,
        "segmentation": [],
        "score": 0.91,
        "source": "AI_PRE_LABEL",
        "detector_class": "car",
        "model_name": "yolox-s",
        "model_version": "0.4.4",
        "prelabel_label_id": CAR.label_id,
    }
    person = doc["annotations"][1]
    assert (person["category_id"], person["bbox"]) == (2, [10.5, 20.25, 20.25, 79.75])
    assert doc["info"]["date_created"] == "2026-11-02T10:00:00+00:00"
    assert doc["info"]["prelabel_dropped_labels"] == 0
    # And the summary counts images and boxes
    assert (summary.images, summary.annotations, summary.dropped_labels) == (3, 2, 0)
    assert (summary.media_type, summary.filename) == ("application/json", "prj_1-coco.json")


def test_labels_of_an_entry_no_longer_bbox_are_dropped_and_counted() -> None:
    # Given a label whose entry was removed from the configuration after pre-labeling
    stale = label("gone", "Gone", (1.0, 1.0, 5.0, 5.0))
    tasks = [task("t1", "a.jpg", (CAR, stale))]
    # When exported
    data, summary = export(PROJECT, tasks, ExportFormat.COCO)
    doc = json.loads(data)
    # Then only the label with a category is kept, and the drop is counted
    assert [a["detector_class"] for a in doc["annotations"]] == ["car"]
    assert doc["info"]["prelabel_dropped_labels"] == summary.dropped_labels == 1


def test_a_project_without_tasks_gives_a_valid_empty_document() -> None:
    # Given no tasks; When exported as COCO
    data, summary = export(PROJECT, [], ExportFormat.COCO)
    # Then the document parses with empty images and annotations
    doc = json.loads(data)
    assert (doc["images"], doc["annotations"], summary.images) == ([], [], 0)


def test_coco_export_loads_in_pycocotools(tmp_path: Path) -> None:
    # Given the COCO export of the sample project written to a file
    data, _ = export(PROJECT, TASKS, ExportFormat.COCO)
    path = tmp_path / "annotations.json"
    path.write_bytes(data)
    # When pycocotools loads it
    coco = COCO(str(path))
    # Then it finds every image, category and box, with the boxes on the right images
    assert sorted(coco.getImgIds()) == [1, 2, 3]
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["Vehicle", "Person"]
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[1]))
    assert [(a["category_id"], a["bbox"]) for a in anns] == [
        (1, [64.0, 48.0, 128.0, 96.0]),
        (2, [10.5, 20.25, 20.25, 79.75]),
    ]
    assert coco.getAnnIds(imgIds=[2, 3]) == []


def test_coco_round_trip_through_supervision_gives_the_tasks_boxes(tmp_path: Path) -> None:
    # Given tasks whose keys clash across datasets, with a box past the image's edge
    data, _ = export(PROJECT, MIXED, ExportFormat.COCO)
    coco_path = tmp_path / "annotations.json"
    coco_path.write_bytes(data)
    # When supervision loads it as a COCO dataset (images resolved under one folder)
    ds, keys = coco_dataset(tmp_path / "images", coco_path)
    # Then every task is an image, each with a file name of its own (supervision refuses two
    # entries for one file), the clashing key getting its dataset id in front
    assert len(ds) == len(MIXED)
    doc = json.loads(data)
    assert [i["file_name"] for i in doc["images"][:2]] == ["cam/1.jpg", "ds2/cam/1.jpg"]
    # And the classes are the bbox entries, and each image's boxes are the task's labels
    # (unclipped, as COCO keeps what the detector said) within 1 px
    assert ds.classes == ["Vehicle", "Person"]
    want = task_boxes(MIXED, NAMES, clip=False)
    got = dataset_boxes(ds, keys)
    assert_same_boxes({k: v for k, v in got.items() if k != "m6"}, want, tolerance_px=1.0)
    assert got["m6"] == []
