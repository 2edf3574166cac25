"""COCO object-detection JSON, with the pre-label's provenance kept as extra fields.

Written as a stream: `images` go to the sink as the tasks come, `annotations` are spooled
aside (memory, then a temporary file) and copied after them, and `info`, which carries the
count of dropped labels, comes last. JSON readers do not care about key order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import IO, Any

from prelabel.domain.entities import Label, Project, Task
from prelabel.export_formats.common import (
    Categories,
    FileNames,
    Tally,
    exported_labels,
    image_suffix,
)
from prelabel.export_formats.streams import Stream, StreamSpool, json_bytes


def coco_image(image_id: int, task: Task, file_name: str) -> dict[str, Any]:
    """Width and height are null where the image has not been read yet (COCO tools that only
    load the annotations, pycocotools and supervision included, accept that)."""
    return {
        "id": image_id,
        "file_name": file_name,
        "width": task.image_width,
        "height": task.image_height,
        "prelabel_task_id": task.task_id,
        "prelabel_dataset_id": task.dataset_id,
        "prelabel_bucket": task.bucket,
        "prelabel_image_key": task.image_key,
        "prelabel_state": task.prelabel_state.value if task.prelabel_state else None,
        "prelabel_run_id": task.prelabel_run_id,
        "prelabel_review_priority": task.review_priority,
    }


def coco_annotation(ann_id: int, image_id: int, index: int, label: Label) -> dict[str, Any]:
    """`bbox` is [x, y, width, height] in pixels of the image as displayed, unclipped: COCO
    keeps what the detector said. Category ids are 1-based (COCO reserves 0)."""
    b = label.box
    w, h = b.x2 - b.x1, b.y2 - b.y1
    return {
        "id": ann_id,
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


def coco_categories(categories: Categories) -> list[dict[str, Any]]:
    return [
        {"id": i + 1, "name": e.name, "supercategory": "", "prelabel_entry_id": e.id}
        for i, e in enumerate(categories.entries)
    ]


# The document's two arrays, written as streams (the opening bracket follows the key).
IMAGES = Stream("images", b"[", b",", b"\n],\n", b"],\n")
ANNOTATIONS = Stream("annotations", b"[", b",", b"\n]", b"]")


def coco_texts(
    project: Project, categories: Categories, tally: Tally, created_at: str
) -> tuple[bytes, bytes, bytes]:
    """The document's text before `images`' array, between it and `annotations`', and after."""
    info = {
        "description": f"Prelabel export of project {project.name}",
        "version": "1.0",
        "date_created": created_at,
        "prelabel_project_id": project.ref.project_id,
        "prelabel_dropped_labels": tally.dropped_labels,
    }
    head = b'{"licenses": [],\n"categories": ' + json_bytes(coco_categories(categories))
    return head + b',\n"images": ', b'"annotations": ', b',\n"info": ' + json_bytes(info) + b"}\n"


def coco_items(
    task: Task, ids: tuple[int, int], file_name: str, categories: Categories, tally: Tally
) -> tuple[bytes, list[bytes]]:
    """The task's image item and its annotation items (each starting with its line end);
    `ids`: the image's id and the first annotation's."""
    image_id, ann_id = ids
    image = b"\n" + json_bytes(coco_image(image_id, task, file_name))
    annotations = [
        b"\n" + json_bytes(coco_annotation(ann_id + n, image_id, index, label))
        for n, (index, label) in enumerate(exported_labels(task, categories, tally))
    ]
    tally.images += 1
    return image, annotations


def write_coco(
    project: Project,
    tasks: Iterable[Task],
    sink: IO[bytes],
    created_at: str,
    on_image: Callable[[Task, str], None] | None = None,
) -> Tally:
    """Every task is an image, pre-labeled or not (`prelabel_state` tells them apart).
    `file_name` is the image key, made unique (dataset id in front) where two datasets share
    keys, since COCO readers key images by file name. `on_image` hears each task with its
    `file_name` (a zip's manifest)."""
    categories = Categories.of(project)
    names = FileNames(flat=False)
    tally = Tally()
    with StreamSpool(ANNOTATIONS) as annotations:
        head, middle, _ = coco_texts(project, categories, tally, created_at)
        sink.write(head + IMAGES.opening)
        for image_id, task in enumerate(tasks, start=1):
            file_name = names.name(task) + image_suffix(task)
            if on_image is not None:
                on_image(task, file_name)
            ids = (image_id, annotations.count + 1)
            image, items = coco_items(task, ids, file_name, categories, tally)
            sink.write((IMAGES.separator if image_id > 1 else b"") + image)
            for item in items:
                annotations.append(item)
        sink.write(IMAGES.closing_for(tally.images) + middle)
        annotations.write_framed(sink)
        sink.write(coco_texts(project, categories, tally, created_at)[2])
    return tally
