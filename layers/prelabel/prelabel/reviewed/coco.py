"""COCO object detection JSON: Prelabel's own export, CVAT's "COCO 1.0", pycocotools, FiftyOne.

- Every entry of `images` is an image people reviewed; one without annotations holds no
  objects.
- An annotation is a box when it has a `bbox` (`[x, y, width, height]` in pixels): COCO gives
  every object one, polygons and masks included, and evaluations (COCOeval) use it. An
  annotation with only a `segmentation` (no bbox) is not a box: skipped and counted.
- `iscrowd: 1` is kept as the box's `crowd` flag (COCOeval ignores what matches a crowd box).
- CVAT writes a rotated rectangle as its unrotated `bbox` with `attributes.rotation` (degrees,
  clockwise, about the centre, as CVAT draws it): read as the axis-aligned box around it.
- Images are named by `prelabel_bucket` + `prelabel_image_key` (Prelabel's export), else by
  `coco_url` where it is an S3 object, else by `file_name` (a path: the key in any bucket, then
  its file name).
- A category's name is the label; Prelabel's `prelabel_entry_id` rides along as a hint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prelabel.reviewed.geometry import (
    Malformed,
    is_turned,
    number,
    obj,
    rotated_bounds,
    shown,
    side,
    text,
)
from prelabel.reviewed.model import ImageRef, ReviewedFileError
from prelabel.reviewed.reading import ImageBoxes, Reading
from prelabel.reviewed.refs import image_ref, object_ref
from prelabel.reviewed.report import Finding

Category = tuple[str, str | None]
Id = int | str


def _id(value: Any) -> Id | None:
    """An image or category id: COCO's are whole numbers, some tools' are texts. A float or
    a boolean is neither (1.0 and True would otherwise find id 1)."""
    return value if type(value) in (int, str) else None


def read_coco_document(doc: Any, reading: Reading, where: str = "") -> None:
    """Reads `doc` (one COCO document) into `reading`; `where` prefixes every place (the zip
    member it came from)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise ReviewedFileError(
            where.rstrip(": ") or "file", "not a COCO document (an object with an `images` list)"
        )
    annotations = doc.get("annotations", [])
    if not isinstance(annotations, list):
        raise ReviewedFileError(f"{where}annotations", f"{shown(annotations)} is not a list")
    reading.expect(f"{where}images", images=len(doc["images"]), annotations=len(annotations))
    categories = _categories(doc.get("categories", []), where)
    heads, unreadable = _images(doc["images"], reading, where)
    boxes = {image_id: reading.boxes(size) for image_id, (_, _, size) in heads.items()}
    for j, ann in enumerate(annotations):
        place = f"{where}annotations[{j}]"
        image_id = _id(ann.get("image_id")) if isinstance(ann, dict) else None
        target = boxes.get(image_id) if image_id is not None else None
        if target is None and image_id in unreadable:
            reading.drop_box(Finding.IMAGE_NOT_IMPORTED, place)
            continue
        try:
            _annotation(ann, place, target, categories, reading)
        except Malformed as exc:
            if target is None:
                reading.malformed_box(exc)
            else:
                target.malformed(exc)
    for image_id, (ref, place, _) in heads.items():
        reading.image(ref, place, boxes[image_id])


def _categories(value: Any, where: str) -> Mapping[Id, Category | Malformed]:
    if not isinstance(value, list):
        raise ReviewedFileError(f"{where}categories", f"{shown(value)} is not a list")
    found: dict[Id, Category | Malformed] = {}
    for i, entry in enumerate(value):
        place = f"{where}categories[{i}]"
        category_id = _id(entry.get("id")) if isinstance(entry, dict) else None
        if category_id is None:
            continue  # no id: no annotation can name it
        try:
            name = text(entry.get("name"), f"{place}.name", 200)
            hint = entry.get("prelabel_entry_id")
            found.setdefault(category_id, (name, hint if isinstance(hint, str) else None))
        except Malformed as exc:
            found.setdefault(category_id, exc)
    return found


def _images(
    entries: list[Any], reading: Reading, where: str
) -> tuple[dict[Id, tuple[ImageRef, str, tuple[int, int] | None]], set[Id]]:
    """The readable images by id, in file order, and the ids of unreadable ones."""
    heads: dict[Id, tuple[ImageRef, str, tuple[int, int] | None]] = {}
    unreadable: set[Id] = set()
    for i, entry in enumerate(entries):
        place = f"{where}images[{i}]"
        image_id = _id(entry.get("id")) if isinstance(entry, dict) else None
        try:
            if not isinstance(entry, dict):
                raise Malformed(place, f"{shown(entry)} is not an object")
            if image_id is None:
                raise Malformed(f"{place}.id", f"{shown(entry.get('id'))} is not an image id")
            if image_id in heads or image_id in unreadable:
                raise Malformed(f"{place}.id", f"{shown(image_id)} is the id of another image")
            heads[image_id] = (_ref(entry, place), place, _size(entry, place))
        except Malformed as exc:
            reading.skip_image(Finding.MALFORMED_IMAGE, str(exc))
            if image_id is not None and image_id not in heads:
                unreadable.add(image_id)
    return heads, unreadable


def _size(entry: Mapping[str, Any], place: str) -> tuple[int, int] | None:
    width = side(entry.get("width"), f"{place}.width")
    height = side(entry.get("height"), f"{place}.height")
    return (width, height) if width and height else None


def _ref(entry: Mapping[str, Any], place: str) -> ImageRef:
    file_name = entry.get("file_name")
    bucket, key = entry.get("prelabel_bucket"), entry.get("prelabel_image_key")
    if isinstance(bucket, str) and isinstance(key, str) and bucket and key:
        return object_ref(file_name if isinstance(file_name, str) else key, bucket, key)
    url = entry.get("coco_url")
    if isinstance(url, str) and url:
        ref = image_ref(url)
        if ref.bucket is not None:
            return ref
    return image_ref(text(file_name, f"{place}.file_name"))


def _annotation(
    ann: Any,
    place: str,
    target: ImageBoxes | None,
    categories: Mapping[Id, Category | Malformed],
    reading: Reading,
) -> None:
    a = obj(ann, place)
    if target is None:
        raise Malformed(f"{place}.image_id", f"{shown(a.get('image_id'))} is no image's id")
    bbox = a.get("bbox")
    if bbox is None or bbox == []:
        if a.get("segmentation"):
            reading.not_a_box(place)
            return
        raise Malformed(f"{place}.bbox", "missing")
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise Malformed(f"{place}.bbox", f"{shown(bbox)} is not [x, y, width, height]")
    x, y, w, h = (number(v, f"{place}.bbox[{k}]") for k, v in enumerate(bbox))
    category_id = _id(a.get("category_id"))
    category = categories.get(category_id) if category_id is not None else None
    if category is None:
        raise Malformed(
            f"{place}.category_id", f"{shown(a.get('category_id'))} is no category's id"
        )
    if isinstance(category, Malformed):
        raise Malformed(f"{place}.category_id", f"{shown(category_id)} is unreadable ({category})")
    name, hint = category
    rotation = _rotation(a, place)
    corners = (
        rotated_bounds((x, y), (w, h), rotation, about_centre=True)
        if rotation and w > 0 and h > 0
        else (x, y, x + w, y + h)
    )
    target.add(
        name,
        corners,
        place,
        rotated=bool(rotation) and w > 0 and h > 0,
        entry_hint=hint,
        crowd=a.get("iscrowd") in (1, True),
    )


def _rotation(ann: Mapping[str, Any], place: str) -> float:
    attributes = ann.get("attributes")
    if not isinstance(attributes, dict) or attributes.get("rotation") in (None, 0):
        return 0.0
    degrees = number(attributes["rotation"], f"{place}.attributes.rotation")
    return degrees if is_turned(degrees) else 0.0
