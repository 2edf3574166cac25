"""COCO object-detection JSON, with the pre-label's provenance kept as extra annotation fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prelabel.domain.entities import Project, Task
from prelabel.exports.common import Categories, exported_labels


def coco_document(project: Project, tasks: Sequence[Task], created_at: str) -> dict[str, Any]:
    """Every task is an image, pre-labeled or not; `prelabel_state` tells them apart, and width
    and height are null where the image has not been read yet (COCO tools that only load the
    annotations, pycocotools included, accept that).

    Category ids are 1-based (COCO reserves 0 for background) in label-configuration order.
    `bbox` is [x, y, width, height] in pixels of the image as displayed, unclipped: COCO keeps
    what the detector said.
    """
    categories = Categories.of(project)
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    dropped = 0
    for image_id, task in enumerate(tasks, start=1):
        images.append(
            {
                "id": image_id,
                "file_name": task.image_key,
                "width": task.image_width,
                "height": task.image_height,
                "prelabel_task_id": task.task_id,
                "prelabel_dataset_id": task.dataset_id,
                "prelabel_state": task.prelabel_state.value if task.prelabel_state else None,
            }
        )
        kept = exported_labels(task, categories)
        dropped += len(task.labels) - len(kept)
        for index, label in kept:
            b = label.box
            w, h = b.x2 - b.x1, b.y2 - b.y1
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": index + 1,
                    "bbox": [b.x1, b.y1, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                    "segmentation": [],
                    "score": label.score,
                    "source": label.source,
                    "detector_class": label.detector_class,
                    "model_name": label.model_name,
                    "model_version": label.model_version,
                    "prelabel_label_id": label.label_id,
                }
            )
    return {
        "info": {
            "description": f"Prelabel export of project {project.name}",
            "version": "1.0",
            "date_created": created_at,
            "prelabel_project_id": project.ref.project_id,
            "prelabel_dropped_labels": dropped,
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [
            {"id": i + 1, "name": e.name, "supercategory": "", "prelabel_entry_id": e.id}
            for i, e in enumerate(categories.entries)
        ],
    }
