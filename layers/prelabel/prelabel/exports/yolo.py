"""YOLO (Ultralytics/darknet) txt labels: one file per image, normalized centre and size."""

from __future__ import annotations

import json
from collections.abc import Sequence

from prelabel.domain.entities import Project, Task
from prelabel.exports.common import (
    Categories,
    clipped,
    exported_labels,
    file_stems,
    has_size,
    size_of,
)


def _num(value: float) -> str:
    # Ten decimals: after multiplying back by a 10,000-pixel side the error stays under 1e-6.
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text or "0"


def yolo_lines(task: Task, categories: Categories) -> list[str]:
    width, height = size_of(task)
    lines = []
    for index, label in exported_labels(task, categories):
        b = clipped(label.box, width, height)
        cx, cy = (b.x1 + b.x2) / 2 / width, (b.y1 + b.y2) / 2 / height
        w, h = (b.x2 - b.x1) / width, (b.y2 - b.y1) / height
        lines.append(" ".join([str(index), _num(cx), _num(cy), _num(w), _num(h)]))
    return lines


def data_yaml(categories: Categories, project: Project) -> str:
    # JSON strings are valid YAML scalars, so any entry name (colons, quotes) stays one name.
    names = "".join(f"  {i}: {json.dumps(e.name)}\n" for i, e in enumerate(categories.entries))
    return (
        f"# Prelabel export of project {json.dumps(project.name)}.\n"
        "# Images are not included: place them under images/ with the same relative paths\n"
        "# as the files under labels/.\n"
        "path: .\n"
        "train: images\n"
        "val: images\n"
        f"nc: {len(categories.entries)}\n"
        "names:\n"
        f"{names}"
    )


def yolo_files(project: Project, tasks: Sequence[Task]) -> tuple[dict[str, str], list[str]]:
    """Files of the export, and the ids of tasks left out because their image size is unknown.

    An image of unknown size has not been pre-labeled yet; an empty label file would claim it
    holds no objects, so it is left out instead. Score and source do not fit YOLO's five
    columns; the COCO export keeps them.
    """
    categories = Categories.of(project)
    sized = [t for t in tasks if has_size(t)]
    skipped = [t.task_id for t in tasks if not has_size(t)]
    stems = file_stems(sized)
    files = {
        f"labels/{stems[t.task_id]}.txt": "".join(f"{line}\n" for line in yolo_lines(t, categories))
        for t in sized
    }
    files["classes.txt"] = "".join(f"{e.name}\n" for e in categories.entries)
    files["data.yaml"] = data_yaml(categories, project)
    return files, skipped
