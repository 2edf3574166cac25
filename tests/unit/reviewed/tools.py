"""What each review tool does with Prelabel's export: import it, let people edit, export.

Each function takes Prelabel's export (bytes, as the user downloads it) and the reviewers'
final boxes, and returns the tool's export as the tool writes it: Label Studio's JSON export
(tasks with their `predictions` still attached and every person's annotation), CVAT's
"COCO 1.0" and "PASCAL VOC 1.1" zips (frames named as the files the user uploaded, CVAT's own
ids, label order and fields). The field sets follow what these tools write today.
"""

# The XML parsed here is Prelabel's own export, the way CVAT reads it.
# ruff: noqa: S314

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
from copy import deepcopy
from typing import Any

from tests.unit.reviewed.samples import REVIEWED, REVIEWED_SIZES, Corners, read_member, zip_of

Reviewed = Mapping[str, tuple[tuple[str, Corners], ...]]
LS_LABELS = ("Person", "Vehicle", "Bicycle")  # the order a CVAT user typed the labels in


def _pixels(region: Mapping[str, Any]) -> tuple[str, Corners]:
    v, w, h = region["value"], region["original_width"], region["original_height"]
    x1, y1 = v["x"] * w / 100, v["y"] * h / 100
    corners = (x1, y1, x1 + v["width"] * w / 100, y1 + v["height"] * h / 100)
    return v["rectanglelabels"][0], tuple(round(c, 3) for c in corners)  # type: ignore[return-value]


def _new_region(name: str, box: Corners, size: tuple[int, int], n: int) -> dict[str, Any]:
    (w, h), (x1, y1, x2, y2) = size, box
    return {
        "id": f"man{n:04d}",
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": w,
        "original_height": h,
        "image_rotation": 0,
        "origin": "manual",
        "value": {
            "x": x1 / w * 100,
            "y": y1 / h * 100,
            "width": (x2 - x1) / w * 100,
            "height": (y2 - y1) / h * 100,
            "rotation": 0,
            "rectanglelabels": [name],
        },
    }


def _reviewed_result(
    predicted: list[dict[str, Any]], boxes: tuple[tuple[str, Corners], ...], size: tuple[int, int]
) -> list[dict[str, Any]]:
    """People start from the prediction: untouched regions stay as they were (same id), a
    relabelled one keeps its geometry, the rest are drawn anew."""
    out = []
    for n, (name, box) in enumerate(boxes):
        same = [r for r in predicted if _pixels(r)[1] == tuple(float(c) for c in box)]
        if same:
            region = deepcopy(same[0])
            region["value"]["rectanglelabels"] = [name]
            region["origin"] = "prediction" if _pixels(same[0])[0] == name else "prediction-changed"
        else:
            region = _new_region(name, box, size, n)
        out.append(region)
    return out


def _annotation(
    ident: int, result: list[dict[str, Any]], when: str, **extra: Any
) -> dict[str, Any]:
    return {
        "id": ident,
        "completed_by": 1,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": when,
        "updated_at": when,
        "draft_created_at": None,
        "lead_time": 12.5,
        "prediction": {},
        "result_count": len(result),
        "unique_id": f"u-{ident}",
        "import_id": None,
        "last_action": None,
        "bulk_created": False,
        "task": None,
        "project": 1,
        "updated_by": 1,
        "parent_prediction": None,
        "parent_annotation": None,
        "last_created_by": None,
        **extra,
    }


def label_studio_export(prelabel_zip: bytes, reviewed: Reviewed = REVIEWED) -> bytes:
    """Label Studio's JSON export after people reviewed every task: the tasks as imported
    from Prelabel's tasks.json, each with its predictions and three annotations: a cancelled
    one (the reviewer skipped first), an older one (another person, who missed things), and
    the latest, whose boxes are `reviewed`."""
    tasks = json.loads(read_member(prelabel_zip, "tasks.json"))
    out = []
    for i, item in enumerate(tasks, start=1):
        task_id = item["data"]["prelabel_task_id"]
        size = REVIEWED_SIZES[task_id]
        predictions = [
            {**p, "id": 100 + i, "task": i, "project": 1, "created_ago": "2 days", "cluster": None}
            for p in item.get("predictions", [])
        ]
        predicted = [r for p in predictions for r in p["result"]]
        latest = _reviewed_result(predicted, reviewed[task_id], size)
        annotations = [
            _annotation(10 * i, [], "2026-11-03T09:00:00.000000Z", was_cancelled=True),
            _annotation(10 * i + 1, deepcopy(predicted[:1]), "2026-11-03T10:00:00.000000Z"),
            _annotation(10 * i + 2, latest, "2026-11-04T08:30:00.000000Z"),
        ]
        out.append(
            {
                "id": i,
                "annotations": annotations,
                "file_upload": None,
                "drafts": [],
                "predictions": predictions,
                "data": item["data"],
                "meta": {},
                "created_at": "2026-11-02T11:00:00.000000Z",
                "updated_at": "2026-11-04T08:30:00.000000Z",
                "inner_id": i,
                "total_annotations": 2,
                "cancelled_annotations": 1,
                "total_predictions": len(predictions),
                "comment_count": 0,
                "unresolved_comment_count": 0,
                "last_comment_updated_at": None,
                "project": 1,
                "updated_by": 1,
                "comment_authors": [],
            }
        )
    return json.dumps(out, indent=1).encode()


def _cvat_categories() -> list[dict[str, Any]]:
    return [{"id": i, "name": n, "supercategory": ""} for i, n in enumerate(LS_LABELS, start=1)]


def cvat_coco_export(prelabel_coco: bytes, reviewed: Reviewed = REVIEWED) -> bytes:
    """CVAT's "COCO 1.0" export of a task made from Prelabel's COCO file: frames are the
    uploaded files named as `file_name` (sorted, as CVAT orders them), labels as the user typed
    them, CVAT's ids and fields; the image files ride along under images/default/."""
    doc = json.loads(prelabel_coco)
    frames = sorted(doc["images"], key=lambda image: image["file_name"])
    ids = {name: i for i, name in enumerate(LS_LABELS, start=1)}
    images, annotations = [], []
    for n, frame in enumerate(frames, start=1):
        task_id = frame["prelabel_task_id"]
        w, h = REVIEWED_SIZES[task_id]
        images.append(
            {
                "id": n,
                "width": w,
                "height": h,
                "file_name": frame["file_name"],
                "license": 0,
                "flickr_url": "",
                "coco_url": "",
                "date_captured": 0,
            }
        )
        for name, (x1, y1, x2, y2) in reviewed.get(task_id, ()):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": n,
                    "category_id": ids[name],
                    "segmentation": [],
                    "area": float((x2 - x1) * (y2 - y1)),
                    "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)],
                    "iscrowd": 0,
                    "attributes": {"occluded": False, "rotation": 0.0},
                }
            )
    document = {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {
            "contributor": "",
            "date_created": "",
            "description": "",
            "url": "",
            "version": "",
            "year": "",
        },
        "categories": _cvat_categories(),
        "images": images,
        "annotations": annotations,
    }
    members: dict[str, bytes | str] = {"annotations/instances_default.json": json.dumps(document)}
    for frame in frames:
        members[f"images/default/{frame['file_name']}"] = b"\xff\xd8\xff\xe0 not really a jpeg"
    return zip_of(members)


def _cvat_voc_xml(
    file_name: str, size: tuple[int, int], boxes: tuple[tuple[str, Corners], ...]
) -> str:
    objects = "".join(
        f"<object><name>{name}</name><pose>Unspecified</pose><truncated>0</truncated>"
        f"<difficult>0</difficult><occluded>0</occluded><bndbox><xmin>{x1:.1f}</xmin>"
        f"<ymin>{y1:.1f}</ymin><xmax>{x2:.1f}</xmax><ymax>{y2:.1f}</ymax></bndbox>"
        "<attributes><attribute><name>rotation</name><value>0.0</value></attribute>"
        "</attributes></object>"
        for name, (x1, y1, x2, y2) in boxes
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<annotation><folder></folder>'
        f"<filename>{file_name}</filename><source><database>Unknown</database>"
        "<annotation>Unknown</annotation><image>Unknown</image></source>"
        f"<size><width>{size[0]}</width><height>{size[1]}</height><depth></depth></size>"
        f"<segmented>0</segmented>{objects}</annotation>"
    )


def cvat_voc_export(prelabel_voc: bytes, reviewed: Reviewed = REVIEWED) -> bytes:
    """CVAT's "PASCAL VOC 1.1" export of a task made from Prelabel's VOC zip: frames are the
    images the user put in JPEGImages/ (named as each XML's <filename>), annotations uploaded
    from the zip, then edited; CVAT writes its own XML (no <source><image>, float corners,
    attributes) with ImageSets and labelmap.txt."""
    manifest = json.loads(read_member(prelabel_voc, "prelabel_export.json"))
    members: dict[str, bytes | str] = {}
    names = []
    for entry in manifest["files"]:
        root = ET.fromstring(read_member(prelabel_voc, entry["annotation"]))
        file_name = root.findtext("filename") or ""
        stem = file_name.rsplit(".", 1)[0]
        task_id = entry["task_id"]
        members[f"Annotations/{stem}.xml"] = _cvat_voc_xml(
            file_name, REVIEWED_SIZES[task_id], reviewed.get(task_id, ())
        )
        names.append(stem)
    members["ImageSets/Main/default.txt"] = "".join(f"{n}\n" for n in names)
    members["labelmap.txt"] = "# label:color_rgb:parts:actions\n" + "".join(
        f"{n}:0,0,0::\n" for n in LS_LABELS
    )
    return zip_of(members)


def unzip_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.namelist()
