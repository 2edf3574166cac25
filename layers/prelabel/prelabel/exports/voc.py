"""Pascal VOC XML: one annotation file per image, integer pixel corners."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import PurePosixPath

from prelabel.domain.entities import Project, Task
from prelabel.exports.common import (
    Categories,
    clipped,
    exported_labels,
    file_stems,
    has_size,
    size_of,
)


def _sub(parent: ET.Element, tag: str, text: str | int | float) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = str(text)
    return child


def voc_xml(task: Task, categories: Categories) -> str:
    """Corners are rounded to whole pixels as VOC tools expect; score, source, detector class
    and model are extra elements inside each object, which VOC readers ignore."""
    width, height = size_of(task)
    root = ET.Element("annotation")
    key = PurePosixPath(task.image_key)
    _sub(root, "folder", str(key.parent) if str(key.parent) != "." else "")
    _sub(root, "filename", key.name)
    _sub(root, "path", task.image_key)
    source = ET.SubElement(root, "source")
    _sub(source, "database", "Prelabel")
    size = ET.SubElement(root, "size")
    _sub(size, "width", width)
    _sub(size, "height", height)
    _sub(size, "depth", 3)
    _sub(root, "segmented", 0)
    for index, label in exported_labels(task, categories):
        b = clipped(label.box, width, height)
        obj = ET.SubElement(root, "object")
        _sub(obj, "name", categories.entries[index].name)
        _sub(obj, "pose", "Unspecified")
        _sub(obj, "truncated", 0)
        _sub(obj, "difficult", 0)
        box = ET.SubElement(obj, "bndbox")
        _sub(box, "xmin", round(b.x1))
        _sub(box, "ymin", round(b.y1))
        _sub(box, "xmax", round(b.x2))
        _sub(box, "ymax", round(b.y2))
        _sub(obj, "score", label.score)
        _sub(obj, "source", label.source)
        _sub(obj, "detector_class", label.detector_class)
        _sub(obj, "model_name", label.model_name)
        _sub(obj, "model_version", label.model_version)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def voc_files(project: Project, tasks: Sequence[Task]) -> tuple[dict[str, str], list[str]]:
    """Files of the export, and the ids of tasks left out because their image size is unknown
    (VOC needs the size, and an image not read yet has no labels to give)."""
    categories = Categories.of(project)
    sized = [t for t in tasks if has_size(t)]
    skipped = [t.task_id for t in tasks if not has_size(t)]
    stems = file_stems(sized)
    files = {f"Annotations/{stems[t.task_id]}.xml": voc_xml(t, categories) for t in sized}
    files["labels.txt"] = "".join(f"{e.name}\n" for e in categories.entries)
    return files, skipped
