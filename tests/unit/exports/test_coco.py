"""COCO export: exact content for known labels, and pycocotools loads it."""

from __future__ import annotations

import json
from pathlib import Path

from pycocotools.coco import COCO

from prelabel.exports.bundle import ExportFormat, build_export
from prelabel.exports.coco import coco_document
from tests.unit.exports.samples import CAR, PROJECT, TASKS, label, task


def test_known_labels_give_exact_coco_content() -> None:
    # Given a project with two bbox entries around a polygon, and three tasks (one not read yet)
    # When the COCO document is built
    doc = coco_document(PROJECT, TASKS, "2026-11-02T10:00:00+00:00")
    # Then categories are the bbox entries only, 1-based, in configuration order
    assert doc["categories"] == [
        {"id": 1, "name": "Vehicle", "supercategory": "", "prelabel_entry_id": "veh"},
        {"id": 2, "name": "Person", "supercategory": "", "prelabel_entry_id": "per"},
    ]
    # And every task is an image; the one not read yet has null size and no pre-label state
    assert [(i["id"], i["file_name"], i["width"], i["height"]) for i in doc["images"]] == [
        (1, "street/a.jpg", 640, 480),
        (2, "street/b.png", 640, 480),
        (3, "street/c.jpg", None, None),
    ]
    assert [i["prelabel_state"] for i in doc["images"]] == ["DONE", "DONE", None]
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


def test_labels_of_an_entry_no_longer_bbox_are_dropped_and_counted() -> None:
    # Given a label whose entry was removed from the configuration after pre-labeling
    stale = label("gone", "Gone", (1.0, 1.0, 5.0, 5.0))
    tasks = [task("t1", "a.jpg", (CAR, stale))]
    # When exported
    doc = coco_document(PROJECT, tasks, "now")
    # Then only the label with a category is kept, and the drop is counted
    assert [a["detector_class"] for a in doc["annotations"]] == ["car"]
    assert doc["info"]["prelabel_dropped_labels"] == 1


def test_coco_export_loads_in_pycocotools(tmp_path: Path) -> None:
    # Given the COCO export of the sample project written to a file
    bundle = build_export(PROJECT, TASKS, ExportFormat.COCO, "now")
    path = tmp_path / "annotations.json"
    path.write_bytes(bundle.content())
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
    # And the bundle is served as JSON with the same content as the document
    assert bundle.media_type == "application/json"
    assert json.loads(bundle.content())["annotations"][0]["score"] == 0.91
    assert bundle.summary == {"images": 3, "annotations": 2, "dropped_labels": 0}
