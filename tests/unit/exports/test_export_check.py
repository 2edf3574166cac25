"""The demo's export check: each library's counts from a folder laid out as `make demo` writes
it, built here from known tasks with the images put in place by the export CLI's helpers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

# What the check reports is what the readers themselves read (dev extra).
pytest.importorskip("pycocotools", reason="the export check reads COCO with it (dev extra)")
pytest.importorskip("supervision", reason="the export check reads every layout with it (dev extra)")
pytest.importorskip(
    "label_studio_sdk", reason="the export check reads Label Studio with it (dev extra)"
)
pytest.importorskip("yaml", reason="the export check reads data.yaml with it (dev extra)")

from PIL import Image

from prelabel.export_formats import ExportFormat
from prelabel_local.export import coco_placements, manifest_placements, place_images, unpack
from prelabel_local.export_check import check_exports
from tests.unit.exports.samples import MIXED, PROJECT, export

SIZES = {(t.bucket, t.image_key): (t.image_width or 50, t.image_height or 40) for t in MIXED}


def _fetch(bucket: str, key: str) -> bytes:
    # Stands in for S3: a JPEG of the task's size.
    out = io.BytesIO()
    Image.new("RGB", SIZES[bucket, key], (10, 20, 30)).save(out, "JPEG")
    return out.getvalue()


def test_every_library_reads_every_image_and_box(tmp_path: Path) -> None:
    # Given every export of tasks (five of known size, five boxes), laid out as the demo does
    coco, _ = export(PROJECT, MIXED, ExportFormat.COCO)
    (tmp_path / "coco.json").write_bytes(coco)
    placed = {
        "coco": place_images(
            tmp_path / "coco_images", coco_placements(tmp_path / "coco.json"), _fetch
        )
    }
    for fmt in ("yolo", "yolo_flat", "voc", "labelstudio"):
        data, _ = export(PROJECT, MIXED, ExportFormat(fmt))
        unpack(data, tmp_path / fmt)
        placed[fmt] = place_images(tmp_path / fmt, manifest_placements(tmp_path / fmt), _fetch)
    # When the export check opens them
    results = check_exports(tmp_path)
    # Then the images went where each layout wants them (Label Studio points at S3)
    assert placed == {"coco": 6, "yolo": 5, "yolo_flat": 5, "voc": 5, "labelstudio": 0}
    # And each library read every image and box, and YOLO and VOC agree with COCO
    assert results == {
        "pycocotools COCO(coco.json)": {"images": 6, "boxes": 5, "classes": 2},
        "supervision from_coco": {"images": 6, "boxes": 5, "classes": 2},
        "supervision from_yolo (yolo_flat)": {"images": 5, "boxes": 5, "classes": 2},
        "supervision from_pascal_voc (voc)": {"images": 5, "boxes": 5, "classes": 2},
        "Ultralytics label rule (yolo)": {
            "images": 5,
            "with_label_file": 5,
            "boxes": 5,
            "classes": 2,
        },
        "label-studio-sdk LabelInterface": {
            "tasks": 6,
            "predictions": 4,
            "boxes": 5,
            "invalid": 0,
            "labels": 2,
        },
        "supervision: YOLO and VOC vs COCO": {
            "yolo_flat_images_same_classes": "5/6",
            "yolo_flat_max_px": 0.0,
            "voc_images_same_classes": "5/6",
            "voc_max_px": results["supervision: YOLO and VOC vs COCO"]["voc_max_px"],
        },
    }
    assert results["supervision: YOLO and VOC vs COCO"]["voc_max_px"] <= 1.5


def test_an_export_a_library_refuses_is_reported_not_raised(tmp_path: Path) -> None:
    # Given a folder with a COCO document that is not JSON and nothing else
    (tmp_path / "coco.json").write_text("{not json")
    # When the export check opens it
    results = check_exports(tmp_path)
    # Then every check reports its error instead of stopping the others
    assert all("error" in result for result in results.values()), results
