"""Label Studio's JSON export: a list of tasks, each with its `data` and people's `annotations`.

- The boxes are those of the task's latest annotation that was not cancelled (latest by
  `updated_at`, then `created_at`, then id). `predictions` are never read: they are what a
  model (Prelabel's own pre-labels, when the export came from Prelabel) suggested, not what
  people decided. `drafts` are not read either. A task with no such annotation was not
  reviewed: counted, not imported. An annotation with no result says the image holds no
  objects.
- A box is a `rectanglelabels` result (or a `labels` result with a rectangle's x, y, width and
  height): percent of `original_width`/`original_height`, top-left corner, `rotation` in
  degrees clockwise about that corner. A rotated rectangle is read as the axis-aligned box
  around it (counted as `rotated`). A result drawn on an image rotated in the editor
  (`image_rotation` other than 0) is dropped: its frame is not the image's. A region with
  several labels is one box per label. Other result types (polygons, brushes, keypoints,
  choices, text) are not boxes: skipped and counted.
- The image is the task's `data.<field>`: the field named by the caller, else the field the
  results' `to_name` names, else `image`, else the one data value that looks like an image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from prelabel.domain.imports import IMAGE_SUFFIXES
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
from prelabel.reviewed.model import ReviewedFileError
from prelabel.reviewed.reading import ImageBoxes, Reading
from prelabel.reviewed.refs import image_ref
from prelabel.reviewed.report import Finding

BOX_TYPES = {"rectanglelabels": "rectanglelabels", "labels": "labels", "rectangle": None}
GEOMETRY = ("x", "y", "width", "height")


def read_label_studio(doc: Any, reading: Reading, image_field: str | None = None) -> None:
    if not isinstance(doc, list):
        raise ReviewedFileError(
            "file", "not a Label Studio JSON export (a list of tasks, each with `data`)"
        )
    reading.expect("tasks", images=len(doc))
    if doc and isinstance(doc[0], dict) and "data" not in doc[0] and "annotation_id" in doc[0]:
        raise ReviewedFileError(
            "tasks[0]", "this is Label Studio's JSON-MIN export; export as JSON instead"
        )
    for i, task in enumerate(doc):
        _task(task, f"tasks[{i}]", reading, image_field)


def _task(task: Any, place: str, reading: Reading, image_field: str | None) -> None:
    try:
        t = obj(task, place)
        data = obj(t.get("data"), f"{place}.data")
        chosen = _latest(t.get("annotations"), f"{place}.annotations")
        results = _results(chosen, place)
        ref = image_ref(_image_value(data, image_field, results, place))
    except Malformed as exc:
        reading.skip_image(Finding.MALFORMED_IMAGE, str(exc))
        return
    if chosen is None:
        reading.skip_image(Finding.UNREVIEWED_IMAGE, ref.written)
        return
    reading.expect(f"{place}.annotations[{chosen[0]}].result", annotations=len(results))
    boxes = reading.boxes(_size(results))
    for k, result in enumerate(results):
        where = f"{place}.annotations[{chosen[0]}].result[{k}]"
        try:
            _result(result, where, boxes, reading)
        except Malformed as exc:
            boxes.malformed(exc)
    reading.image(ref, place, boxes)


def _latest(value: Any, place: str) -> tuple[int, Mapping[str, Any]] | None:
    """The latest annotation not cancelled, with its index."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise Malformed(place, f"{shown(value)} is not a list")
    done = [
        (i, a) for i, a in enumerate(value) if isinstance(a, dict) and not a.get("was_cancelled")
    ]
    if not done:
        return None

    def when(item: tuple[int, Mapping[str, Any]]) -> tuple[str, str, int, int]:
        i, a = item
        ident = a.get("id")
        return (
            str(a.get("updated_at") or ""),
            str(a.get("created_at") or ""),
            ident if isinstance(ident, int) and not isinstance(ident, bool) else -1,
            i,
        )

    return max(done, key=when)


def _results(chosen: tuple[int, Mapping[str, Any]] | None, place: str) -> Sequence[Any]:
    if chosen is None:
        return []
    results = chosen[1].get("result", [])
    if not isinstance(results, list):
        raise Malformed(
            f"{place}.annotations[{chosen[0]}].result", f"{shown(results)} is not a list"
        )
    return results


def _image_value(
    data: Mapping[str, Any], field: str | None, results: Sequence[Any], place: str
) -> str:
    if field is not None:
        return text(data.get(field), f"{place}.data.{field}")
    names = [r.get("to_name") for r in results if isinstance(r, dict)]
    for name in [*names, "image"]:
        if isinstance(name, str) and isinstance(data.get(name), str) and data[name].strip():
            return text(data[name], f"{place}.data.{name}")
    found = [k for k, v in data.items() if isinstance(v, str) and _looks_like_image(v)]
    if len(found) == 1:
        return text(data[found[0]], f"{place}.data.{found[0]}")
    problem = "no value looks like an image" if not found else f"several images: {found[:5]}"
    raise Malformed(f"{place}.data", f"{problem}; name the image field")


def _looks_like_image(value: str) -> bool:
    try:
        path = urlsplit(value.strip()).path.lower()
    except ValueError:
        return False
    return value.startswith("s3://") or path.endswith(IMAGE_SUFFIXES)


def _size(results: Sequence[Any]) -> tuple[int, int] | None:
    """The image size the first readable result states."""
    for r in results:
        if isinstance(r, dict):
            try:
                width = side(r.get("original_width"), "")
                height = side(r.get("original_height"), "")
            except Malformed:
                continue
            if width and height:
                return width, height
    return None


def _labels(r: Mapping[str, Any], place: str) -> tuple[Mapping[str, Any], list[Any]] | None:
    """The region's value and labels where the result is a labelled rectangle; None where it
    is no box at all."""
    kind, value = r.get("type"), r.get("value")
    if not isinstance(kind, str) or kind not in BOX_TYPES or not isinstance(value, dict):
        return None
    if kind == "labels" and not all(k in value for k in GEOMETRY):
        return None  # labels of a text or audio span
    key = BOX_TYPES[kind] or "rectanglelabels"
    labels = value.get(key)
    if not isinstance(labels, list) or not labels:
        raise Malformed(f"{place}.value.{key}", "no label")
    return value, labels


def _result(result: Any, place: str, boxes: ImageBoxes, reading: Reading) -> None:
    r = obj(result, place)
    found = _labels(r, place)
    if found is None:
        reading.not_a_box(f"{place} ({shown(r.get('type'))})")
        return
    value, labels = found
    width = side(r.get("original_width"), f"{place}.original_width")
    height = side(r.get("original_height"), f"{place}.original_height")
    if not (width and height):
        raise Malformed(f"{place}.original_width", "missing: percent cannot become pixels")
    if is_turned(number(r.get("image_rotation") or 0, f"{place}.image_rotation")):
        for _ in labels:
            boxes.drop(Finding.IMAGE_ROTATED, place)
        return
    x, w = (number(value.get(k), f"{place}.value.{k}") * width / 100 for k in ("x", "width"))
    y, h = (number(value.get(k), f"{place}.value.{k}") * height / 100 for k in ("y", "height"))
    rotation = number(value.get("rotation") or 0, f"{place}.value.rotation")
    turned = is_turned(rotation) and w > 0 and h > 0
    corners = (
        rotated_bounds((x, y), (w, h), rotation, about_centre=False)
        if turned
        else (x, y, x + w, y + h)
    )
    for k, label in enumerate(labels):
        where = place if len(labels) == 1 else f"{place}.value.labels[{k}]"
        try:
            name = text(label, where, 200)
        except Malformed as exc:
            boxes.malformed(exc)
            continue
        boxes.add(name, corners, where, rotated=turned, size=(width, height))
