"""Label Studio: tasks with the pre-labels as predictions, and the labeling config they fit.

The zip holds
    labeling_config.xml    an <Image name="image"> and a <RectangleLabels name="label"> with one
                           <Label> per bbox entry: paste it as the project's labeling interface
    tasks.json             one task per image, every task of the project: import it
    prelabel_export.json   the manifest
Each task's `data.image` is the `s3://bucket/key` URI, which Label Studio resolves through the
project's S3 source storage. A pre-labeled image carries one prediction per model version with
its boxes as `rectanglelabels` regions in percent of the image, `original_width/height` and
each box's score. The run that pre-labeled it is `data.prelabel_run_id` (a column in Label
Studio's data manager) and `prelabel_run_id` on the prediction; it is kept out of
`model_version` because Label Studio pre-fills annotations from one model version only.
`data.prelabel_review_priority` is the task's review priority (lowest first).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from prelabel.domain.entities import Label, Project, Task
from prelabel.export_formats.common import (
    Categories,
    Tally,
    clipped,
    exported_labels,
    has_size,
    image_uri,
    size_of,
)
from prelabel.export_formats.parts import TaskOut, ZipFormat
from prelabel.export_formats.streams import json_bytes, json_list

CONFIG_NAME = "labeling_config.xml"
TASKS_NAME = "tasks.json"
IMAGE_TAG = "image"
LABELS_TAG = "label"


def labeling_config(categories: Categories) -> str:
    view = ET.Element("View")
    ET.SubElement(view, "Image", {"name": IMAGE_TAG, "value": f"${IMAGE_TAG}", "zoom": "true"})
    labels = ET.SubElement(view, "RectangleLabels", {"name": LABELS_TAG, "toName": IMAGE_TAG})
    # Label Studio tells labels apart by value: two entries of one name are one label there.
    for name in dict.fromkeys(categories.names()):
        ET.SubElement(labels, "Label", {"value": name})
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"


def _percent(value: float) -> float:
    return round(value * 100, 6)


def _region(label: Label, name: str, width: int, height: int) -> dict[str, Any]:
    b = clipped(label.box, width, height)
    return {
        "id": label.label_id,
        "type": "rectanglelabels",
        "from_name": LABELS_TAG,
        "to_name": IMAGE_TAG,
        "original_width": width,
        "original_height": height,
        "image_rotation": 0,
        "value": {
            "x": _percent(b.x1 / width),
            "y": _percent(b.y1 / height),
            "width": _percent((b.x2 - b.x1) / width),
            "height": _percent((b.y2 - b.y1) / height),
            "rotation": 0,
            "rectanglelabels": [name],
        },
        "score": label.score,
    }


def label_studio_task(task: Task, categories: Categories, tally: Tally) -> dict[str, Any]:
    data = {
        IMAGE_TAG: image_uri(task),
        "prelabel_task_id": task.task_id,
        "prelabel_dataset_id": task.dataset_id,
        "prelabel_state": task.prelabel_state.value if task.prelabel_state else None,
        "prelabel_run_id": task.prelabel_run_id,
        # Lowest first: sorting the data manager by it gives Prelabel's review order.
        "prelabel_review_priority": task.review_priority,
    }
    out: dict[str, Any] = {"data": data}
    if not has_size(task):
        return out
    width, height = size_of(task)
    by_model: dict[str, list[tuple[float, dict[str, Any]]]] = {}
    for index, label in exported_labels(task, categories, tally):
        version = f"{label.model_name} {label.model_version}".strip()
        region = _region(label, categories.entries[index].name, width, height)
        by_model.setdefault(version, []).append((label.score, region))
    if not by_model:  # not one box: a task without predictions, as if drawn from scratch
        return out
    # The mean score orders tasks by the model's confidence in Label Studio's data manager.
    out["predictions"] = [
        {
            "model_version": version,
            "score": round(sum(score for score, _ in regions) / len(regions), 4),
            "prelabel_run_id": task.prelabel_run_id,
            "result": [region for _, region in regions],
        }
        for version, regions in by_model.items()
    ]
    return out


class LabelStudio(ZipFormat):
    streams = (json_list(TASKS_NAME),)
    entries = False

    def fixed(self, project: Project, categories: Categories) -> list[tuple[str, str | None]]:
        return [(CONFIG_NAME, labeling_config(categories))]

    def task(self, task: Task, out: TaskOut) -> None:
        item = label_studio_task(task, out.categories, out.tally)
        out.item(TASKS_NAME, b"\n" + json_bytes(item))
        out.file(task, None, TASKS_NAME)
