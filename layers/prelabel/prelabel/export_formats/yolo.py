"""YOLO txt labels (Ultralytics, darknet): one file per image, normalized centre and size.

Two layouts:
- `yolo` (Ultralytics): `labels/<key path>.txt` mirroring `images/<key path>.<ext>`, and a
  `data.yaml` without `path`, so Ultralytics takes the folder holding it as the dataset root.
- `yolo_flat`: every file in one folder (`labels/<stem>.txt`, `images/<stem>.<ext>`), for
  loaders that do not walk subfolders (supervision's `DetectionDataset.from_yolo`).
"""

from __future__ import annotations

import json

from prelabel.domain.entities import Project, Task
from prelabel.export_formats import common
from prelabel.export_formats.parts import Naming, TaskOut, ZipFormat


def _num(value: float) -> str:
    # Ten decimals: after multiplying back by a 10,000-pixel side the error stays under 1e-6.
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text or "0"


def yolo_lines(task: Task, categories: common.Categories, tally: common.Tally) -> list[str]:
    width, height = common.size_of(task)
    lines = []
    for index, label in common.exported_labels(task, categories, tally):
        b = common.clipped(label.box, width, height)
        cx, cy = (b.x1 + b.x2) / 2 / width, (b.y1 + b.y2) / 2 / height
        w, h = (b.x2 - b.x1) / width, (b.y2 - b.y1) / height
        lines.append(" ".join([str(index), _num(cx), _num(cy), _num(w), _num(h)]))
    return lines


def data_yaml(categories: common.Categories, project: Project) -> str:
    # JSON strings are valid YAML scalars, so any entry name (colons, quotes) stays one name.
    names = "".join(f"  {i}: {json.dumps(e.name)}\n" for i, e in enumerate(categories.entries))
    return (
        f"# Prelabel export of project {json.dumps(project.name)}.\n"
        "# Put the images under images/ as prelabel_export.json lists them (its `image`\n"
        "# field), then e.g. `yolo train data=<absolute path of this file>`.\n"
        "train: images\n"
        "val: images\n"
        f"nc: {len(categories.entries)}\n"
        "names:\n"
        f"{names}"
    )


class Yolo(ZipFormat):
    """An image of unknown size has not been pre-labeled yet; an empty label file would claim it
    holds no objects, so it is left out and listed in the manifest instead. Score and source do
    not fit YOLO's five columns; the COCO and Label Studio exports keep them."""

    sized = True

    def __init__(self, *, flat: bool) -> None:
        self.naming = Naming(flat=flat, renamed_dirs={} if flat else {"images": "images_"})

    def fixed(
        self, project: Project, categories: common.Categories
    ) -> list[tuple[str, str | None]]:
        classes = "".join(f"{common.one_line(n)}\n" for n in categories.names())
        return [
            ("classes.txt", classes),
            ("data.yaml", data_yaml(categories, project)),
            ("images", None),
        ]

    def task(self, task: Task, out: TaskOut) -> None:
        name = out.name(task)
        label_file = f"labels/{name}.txt"
        lines = yolo_lines(task, out.categories, out.tally)
        out.entry(label_file, "".join(f"{line}\n" for line in lines))
        out.file(task, f"images/{name}{common.image_suffix(task)}", label_file)
