"""Pascal VOC XML in the layout VOC tools read (CVAT's "Pascal VOC 1.1", datumaro,
supervision's `DetectionDataset.from_pascal_voc`):

    Annotations/<name>.xml         one per image, <filename> naming its file in JPEGImages/
    ImageSets/Main/default.txt     every <name>, the subset CVAT calls "default"
    JPEGImages/                    empty: the images go here (prelabel_export.json lists them)
    labelmap.txt                   the classes, so datumaro and CVAT know names not in VOC's 20
    labels.txt                     the same names, one per line

Names are flat (the image's file stem); see FileNames for clashes. Corners are whole pixels,
zero-based, as CVAT writes and reads them; the VOC devkit counts from one, and supervision's
reader subtracts one from xmin and ymin accordingly.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from prelabel.domain.entities import Project, Task
from prelabel.export_formats.common import (
    Categories,
    Tally,
    clipped,
    exported_labels,
    image_suffix,
    image_uri,
    one_line,
    size_of,
)
from prelabel.export_formats.parts import Naming, TaskOut, ZipFormat
from prelabel.export_formats.streams import Stream

IMAGES_DIR = "JPEGImages"
IMAGE_SET = "ImageSets/Main/default.txt"


def _sub(parent: ET.Element, tag: str, text: str | int | float) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = str(text)
    return child


def voc_xml(task: Task, categories: Categories, image_file: str, tally: Tally) -> str:
    """Score, source, detector class and model are extra elements inside each object, which
    VOC readers ignore; the S3 object is named in <source><image>."""
    width, height = size_of(task)
    root = ET.Element("annotation")
    _sub(root, "folder", IMAGES_DIR)
    _sub(root, "filename", image_file)
    source = ET.SubElement(root, "source")
    _sub(source, "database", "Prelabel")
    _sub(source, "image", image_uri(task))
    size = ET.SubElement(root, "size")
    _sub(size, "width", width)
    _sub(size, "height", height)
    _sub(size, "depth", 3)
    _sub(root, "segmented", 0)
    for index, label in exported_labels(task, categories, tally):
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


def labelmap(categories: Categories) -> str | None:
    """datumaro's `name:color:parts:actions` lines. A name holding ':' cannot be written there;
    then there is no labelmap.txt, and CVAT builds one from the task's own labels."""
    names = [one_line(n) for n in categories.names()]
    if any(":" in n for n in names):
        return None
    return "# label:color_rgb:parts:actions\n" + "".join(f"{n}:::\n" for n in names)


class Voc(ZipFormat):
    """Images of unknown size are left out (VOC needs the size, and an image not read yet has
    no labels to give) and listed in the manifest."""

    sized = True
    naming = Naming(flat=True)
    streams = (Stream(IMAGE_SET),)

    def fixed(self, project: Project, categories: Categories) -> list[tuple[str, str | None]]:
        mapping = labelmap(categories)
        labels = "".join(f"{one_line(n)}\n" for n in categories.names())
        return [
            *([("labelmap.txt", mapping)] if mapping is not None else []),
            ("labels.txt", labels),
            (IMAGES_DIR, None),
        ]

    def task(self, task: Task, out: TaskOut) -> None:
        name = out.name(task)
        image_file = f"{name}{image_suffix(task)}"
        annotation = f"Annotations/{name}.xml"
        out.entry(annotation, voc_xml(task, out.categories, image_file, out.tally))
        out.item(IMAGE_SET, f"{name}\n".encode())
        out.file(task, f"{IMAGES_DIR}/{image_file}", annotation)
