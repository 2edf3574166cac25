"""Pascal VOC zips (Prelabel's export, CVAT's "PASCAL VOC 1.1", datumaro, labelImg):
`Annotations/**/*.xml`, one file per image, anywhere under one folder of the zip.

- The image is `<source><image>` where it is an `s3://` URI (Prelabel writes it; CVAT drops it
  on export), else `<filename>` (a file name, or a path under the images folder).
- Corners are read as pixels counted from 0, as CVAT and Prelabel write them; a file from the
  VOC devkit, which counts from 1, comes in one pixel to the right and down (well within the
  IoU 0.5 any quality figure uses). Decimal corners are kept.
- `<difficult>1</difficult>` is kept as the box's `difficult` flag (VOC's evaluation ignores
  such objects); `<truncated>`, `<occluded>`, `<pose>` and CVAT's attributes are not read.
- An `<object>` without `<bndbox>` (a polygon some tools write) is not a box: skipped, counted.
- Every other file of the zip (images, ImageSets, labelmap.txt) is not read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile

from prelabel.reviewed.geometry import Malformed, number, shown, side, text
from prelabel.reviewed.inputs import Archive, is_noise, parse_xml
from prelabel.reviewed.model import ImageRef, ReviewedFileError
from prelabel.reviewed.reading import ImageBoxes, Reading
from prelabel.reviewed.refs import image_ref
from prelabel.reviewed.report import Finding

_ANNOTATION = re.compile(r"^(?:(?P<root>.*)/)?Annotations/(?P<id>.+)\.xml$", re.IGNORECASE)
CORNERS = ("xmin", "ymin", "xmax", "ymax")


def read_voc(archive: Archive, reading: Reading) -> None:
    members = _annotation_members(archive)
    reading.expect("file", images=len(members))
    for name, info in members:
        data = archive.read(name, info, reading.limits.max_xml_bytes)
        try:
            root = parse_xml(data, name)
        except ET.ParseError as exc:
            reading.skip_image(Finding.MALFORMED_IMAGE, f"{name}: not well-formed XML ({exc})")
            continue
        _image(root, name, reading)


def _annotation_members(archive: Archive) -> list[tuple[str, zipfile.ZipInfo]]:
    found: list[tuple[str, zipfile.ZipInfo]] = []
    roots: set[str] = set()
    for name, info in archive.members:
        match = _ANNOTATION.match(name)
        if match and not is_noise(name):
            found.append((name, info))
            roots.add(match["root"] or "")
    if not found:
        raise ReviewedFileError(
            "file", "no Annotations/*.xml in the zip; is this a Pascal VOC export?"
        )
    if len(roots) > 1:
        raise ReviewedFileError(
            "file", f"Annotations folders in several places ({sorted(roots)[:3]}); zip one"
        )
    return sorted(found, key=lambda item: item[0])


def _image(root: ET.Element, name: str, reading: Reading) -> None:
    try:
        if root.tag != "annotation":
            raise Malformed(name, f"the root element is <{root.tag[:40]}>, not <annotation>")
        ref = _ref(root, name)
        size = _size(root, name)
    except Malformed as exc:
        reading.skip_image(Finding.MALFORMED_IMAGE, str(exc))
        return
    objects = root.findall("object")
    reading.expect(name, annotations=len(objects))
    boxes = reading.boxes(size)
    for k, element in enumerate(objects):
        place = f"{name}: object[{k}]"
        try:
            _object(element, place, boxes, reading)
        except Malformed as exc:
            boxes.malformed(exc)
    reading.image(ref, name, boxes)


def _ref(root: ET.Element, name: str) -> ImageRef:
    source = (root.findtext("source/image") or "").strip()
    if source.startswith("s3://"):
        ref = image_ref(source)
        if ref.bucket is not None:
            return ref
    file_name = root.findtext("filename")
    if file_name is None or not file_name.strip():
        raise Malformed(f"{name}: filename", "missing: the image cannot be named")
    return image_ref(text(file_name.strip(), f"{name}: filename"))


def _size(root: ET.Element, name: str) -> tuple[int, int] | None:
    width = side(root.findtext("size/width"), f"{name}: size.width")
    height = side(root.findtext("size/height"), f"{name}: size.height")
    return (width, height) if width and height else None


def _object(element: ET.Element, place: str, boxes: ImageBoxes, reading: Reading) -> None:
    bndbox = element.find("bndbox")
    if bndbox is None:
        if element.find("polygon") is not None or element.find("segmentation") is not None:
            reading.not_a_box(place)
            return
        raise Malformed(f"{place}.bndbox", "missing")
    label = text(element.findtext("name"), f"{place}.name", 200).strip()
    x1, y1, x2, y2 = (_corner(bndbox, k, f"{place}.bndbox.{k}") for k in CORNERS)
    difficult = (element.findtext("difficult") or "").strip().lower() in ("1", "true")
    boxes.add(label, (x1, y1, x2, y2), place, difficult=difficult)


def _corner(bndbox: ET.Element, tag: str, place: str) -> float:
    raw = bndbox.findtext(tag)
    if raw is None:
        raise Malformed(place, "missing")
    try:
        value = float(raw.strip()[:40])
    except ValueError:
        raise Malformed(place, f"{shown(raw)} is not a number") from None
    return number(value, place)
