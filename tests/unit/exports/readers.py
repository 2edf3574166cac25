"""Opening exports the way their users do: unzip, put images where the manifest says, then load
with the libraries review tools and training code use (pycocotools, supervision)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

# The libraries users open exports with come with the dev extra; where they are missing (the
# unit tier's runtime-only install) the tests that read exports back skip, saying why.
pytest.importorskip("supervision", reason="supervision reads the exports back (dev extra)")

import supervision as sv
from PIL import Image

from prelabel.domain.entities import Task

# (class name, x1, y1, x2, y2) in pixels
Box = tuple[str, float, float, float, float]


def unpack(data: bytes, folder: Path) -> dict[str, Any]:
    """The archive unpacked into `folder`; returns its manifest."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(folder)
    manifest: dict[str, Any] = json.loads((folder / "prelabel_export.json").read_text())
    return manifest


def write_image(path: Path, size: tuple[int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = "PNG" if path.suffix.lower() == ".png" else "JPEG"
    Image.new("RGB", size, (90, 120, 150)).save(path, kind)


def place_images(folder: Path, manifest: dict[str, Any], tasks: Iterable[Task]) -> None:
    """What a user does with the manifest: each image (here a blank one of the task's size)
    where the layout wants it."""
    sizes = {t.task_id: (t.image_width, t.image_height) for t in tasks}
    for entry in manifest["files"]:
        w, h = sizes[entry["task_id"]]
        assert w and h
        write_image(folder / entry["image"], (w, h))


def unpack_with_images(data: bytes, folder: Path, tasks: Iterable[Task]) -> dict[str, Any]:
    """The archive unpacked into `folder` with its images where the manifest says; returns the
    manifest."""
    manifest = unpack(data, folder)
    place_images(folder, manifest, tasks)
    return manifest


def task_ids_by_path(folder: Path, manifest: dict[str, Any]) -> dict[str, str]:
    return {str((folder / e["image"]).resolve()): e["task_id"] for e in manifest["files"]}


def dataset_boxes(ds: sv.DetectionDataset, ids_by_path: dict[str, str]) -> dict[str, list[Box]]:
    """Task id -> its image's boxes, sorted, as supervision read them."""
    out: dict[str, list[Box]] = {}
    for path in ds.image_paths:
        detections = ds.annotations[path]
        boxes = [
            (ds.classes[int(c)], *(float(v) for v in xyxy))
            for xyxy, c in zip(detections.xyxy, detections.class_id, strict=True)
        ]
        out[ids_by_path[str(Path(path).resolve())]] = sorted(boxes)  # type: ignore[arg-type]
    return out


def coco_dataset(folder: Path, coco_path: Path) -> tuple[sv.DetectionDataset, dict[str, str]]:
    doc = json.loads(coco_path.read_text())
    ds = sv.DetectionDataset.from_coco(str(folder), str(coco_path))
    ids = {str((folder / i["file_name"]).resolve()): i["prelabel_task_id"] for i in doc["images"]}
    return ds, ids


def task_boxes(
    tasks: Iterable[Task], names: dict[str, str], clip: bool = True
) -> dict[str, list[Box]]:
    """Task id -> the task's labels as boxes, sorted, for the images of known size; clipped
    to the image as every format but COCO writes them. `names` maps entry ids to classes."""
    out: dict[str, list[Box]] = {}
    for t in tasks:
        if not (t.image_width and t.image_height):
            continue
        w, h = (t.image_width, t.image_height) if clip else (float("inf"), float("inf"))
        lo = 0.0 if clip else float("-inf")
        out[t.task_id] = sorted(
            (
                names[lbl.entry_id],
                min(max(lbl.box.x1, lo), w),
                min(max(lbl.box.y1, lo), h),
                min(max(lbl.box.x2, lo), w),
                min(max(lbl.box.y2, lo), h),
            )
            for lbl in t.labels
            if lbl.entry_id in names
        )
    return out


def assert_boxes_are_the_tasks(
    ds: sv.DetectionDataset,
    folder: Path,
    manifest: dict[str, Any],
    tasks: Iterable[Task],
    names: dict[str, str],
    tolerance_px: float,
) -> None:
    """Each image's boxes, as a library read them from the unpacked export, are its task's
    labels (clipped to the image)."""
    got = dataset_boxes(ds, task_ids_by_path(folder, manifest))
    assert_same_boxes(got, task_boxes(tasks, names), tolerance_px)


def assert_same_boxes(
    got: dict[str, list[Box]], want: dict[str, list[Box]], tolerance_px: float
) -> None:
    assert sorted(got) == sorted(want)
    for key, boxes in want.items():
        assert [b[0] for b in got[key]] == [b[0] for b in boxes], key
        for g, w in zip(got[key], boxes, strict=True):
            assert max(abs(a - b) for a, b in zip(g[1:], w[1:], strict=True)) <= tolerance_px, (
                key,
                g,
                w,
            )
