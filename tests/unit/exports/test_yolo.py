"""YOLO exports: exact lines, the Ultralytics and flat layouts, and supervision reading the flat
one as it is."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("supervision", reason="supervision reads the export back (dev extra)")
pytest.importorskip("yaml", reason="data.yaml is read as Ultralytics reads it (dev extra)")

import supervision as sv
import yaml

from prelabel.export_formats import ExportFormat
from prelabel.export_formats.common import Categories, Tally
from prelabel.export_formats.yolo import yolo_lines
from tests.unit.exports.readers import assert_boxes_are_the_tasks, unpack_with_images
from tests.unit.exports.samples import MIXED, NAMES, PROJECT, TASKS, export, label, task


def test_known_labels_give_exact_yolo_lines() -> None:
    # Given a 640x480 image with a car (entry 0 of the bbox entries) and a person (entry 1,
    # although it is the third entry of the configuration)
    # When its YOLO lines are built
    lines = yolo_lines(TASKS[0], Categories.of(PROJECT), Tally())
    # Then each is "class cx cy w h", normalized by the image size
    assert lines == [
        "0 0.2 0.2 0.2 0.2",
        "1 0.0322265625 0.1252604167 0.031640625 0.1661458333",
    ]


@pytest.mark.parametrize("size", [(640, 480), (4032, 3024), (10_000, 7)])
def test_yolo_lines_parse_back_to_the_same_boxes(size: tuple[int, int]) -> None:
    # Given boxes with awkward fractions inside an image
    w_img, h_img = size
    boxes = [
        (0.0, 0.0, w_img / 3, h_img / 7),
        (w_img * 0.123456789, h_img * 0.5, w_img * 0.987654321, h_img * 1.0),
    ]
    labels = (
        label("veh", "Vehicle", boxes[0]),
        label("per", "Person", boxes[1]),
        label("veh", "Vehicle", boxes[1]),
    )
    t = task("t1", "x.jpg", labels, size=size)
    # When written as YOLO lines and read back as a YOLO reader does
    parsed = []
    for line in yolo_lines(t, Categories.of(PROJECT), Tally()):
        cls, cx, cy, w, h = line.split()
        cxf, cyf, wf, hf = float(cx) * w_img, float(cy) * h_img, float(w) * w_img, float(h) * h_img
        parsed.append((int(cls), (cxf - wf / 2, cyf - hf / 2, cxf + wf / 2, cyf + hf / 2)))
    # Then the same boxes come back within 1e-6 pixels, with the same classes and count
    assert [cls for cls, _ in parsed] == [0, 1, 0]
    for (_, got), want in zip(parsed, [boxes[0], boxes[1], boxes[1]], strict=True):
        assert got == pytest.approx(want, abs=1e-6)


def test_boxes_outside_the_image_are_clipped() -> None:
    # Given a box that spills over the right and top edges
    t = task("t1", "x.jpg", (label("veh", "Vehicle", (600.0, -10.0, 700.0, 20.0)),))
    # When written as YOLO
    (line,) = yolo_lines(t, Categories.of(PROJECT), Tally())
    # Then it covers only the part inside the image (x 600..640, y 0..20)
    assert line == "0 0.96875 0.0208333333 0.0625 0.0416666667"


def test_ultralytics_layout_mirrors_keys_and_lists_what_it_left_out() -> None:
    # Given two images of known size (one without objects) and one not read yet
    # When exported as YOLO
    data, summary = export(PROJECT, TASKS, ExportFormat.YOLO)
    archive = zipfile.ZipFile(io.BytesIO(data))
    # Then the zip holds a label file per known image mirroring its key, empty for no objects,
    # an images/ folder for the images, the class lists and the manifest
    assert archive.namelist() == [
        "classes.txt",
        "data.yaml",
        "images/",
        "labels/street/a.txt",
        "labels/street/b.txt",
        "prelabel_export.json",
    ]
    assert archive.read("labels/street/a.txt").count(b"\n") == 2
    assert archive.read("labels/street/b.txt") == b""
    assert archive.read("classes.txt") == b"Vehicle\nPerson\n"
    # And data.yaml names the classes and has no `path`, so Ultralytics roots the dataset at
    # the folder holding data.yaml (a relative `path` would resolve against the working folder)
    doc = yaml.safe_load(archive.read("data.yaml"))
    assert doc == {
        "train": "images",
        "val": "images",
        "nc": 2,
        "names": {0: "Vehicle", 1: "Person"},
    }
    # And the image not read yet is left out rather than claimed to be empty, and listed
    manifest = json.loads(archive.read("prelabel_export.json"))
    assert manifest["skipped_task_ids"] == ["t3"]
    assert [(f["image"], f["annotation"], f["image_key"]) for f in manifest["files"]] == [
        ("images/street/a.jpg", "labels/street/a.txt", "street/a.jpg"),
        ("images/street/b.png", "labels/street/b.txt", "street/b.png"),
    ]
    assert (summary.images, summary.skipped_images, summary.filename) == (2, 1, "prj_1-yolo.zip")


def _ultralytics_label_path(image_path: str) -> str:
    # Ultralytics' img2label_paths: the last "/images/" of the image's path becomes "/labels/".
    sa, sb = "/images/", "/labels/"
    return sb.join(image_path.rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt"


def test_ultralytics_finds_each_label_file_from_its_image_path() -> None:
    # Given keys with a folder named "images" and keys that clash across datasets
    data, _ = export(PROJECT, MIXED, ExportFormat.YOLO)
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("prelabel_export.json"))
    # When each image path of the manifest is turned into its label path as Ultralytics does
    found = {
        f["annotation"]: _ultralytics_label_path("/data/export/" + f["image"])
        for f in manifest["files"]
    }
    # Then it is the label file the export wrote for that image, and every one exists
    assert all(path == "/data/export/" + name for name, path in found.items()), found
    assert set(found) <= set(archive.namelist())
    assert "images/images_/street/b.png" in [f["image"] for f in manifest["files"]]


def test_flat_layout_opens_in_supervision_with_the_tasks_boxes(tmp_path: Path) -> None:
    # Given the flat YOLO export of tasks whose file names clash once flattened, unpacked with
    # the images put where its manifest says
    data, summary = export(PROJECT, MIXED, ExportFormat.YOLO_FLAT)
    manifest = unpack_with_images(data, tmp_path, MIXED)
    # When supervision loads it as a YOLO dataset
    ds = sv.DetectionDataset.from_yolo(
        str(tmp_path / "images"), str(tmp_path / "labels"), str(tmp_path / "data.yaml")
    )
    # Then every image of known size is there with its own label file
    assert len(ds) == summary.images == len(MIXED) - 1
    assert sorted(f["image"] for f in manifest["files"]) == [
        "images/1-ds1.JPG",
        "images/1-ds2.jpg",
        "images/1.jpg",
        "images/b.png",
        "images/café 2.jpg",
    ]
    # And its boxes and classes are the task's labels, clipped to the image
    assert ds.classes == ["Vehicle", "Person"]
    assert_boxes_are_the_tasks(ds, tmp_path, manifest, MIXED, NAMES, tolerance_px=0.01)


def test_same_labels_give_the_same_bytes() -> None:
    # Given the sample project; When exported twice
    first, _ = export(PROJECT, TASKS, ExportFormat.YOLO_FLAT)
    second, _ = export(PROJECT, TASKS, ExportFormat.YOLO_FLAT)
    # Then the archives are identical (no timestamps inside)
    assert first == second
