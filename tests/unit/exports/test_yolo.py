"""YOLO export: exact lines, class indexes among bbox entries, and a round trip to pixels."""

from __future__ import annotations

import io
import zipfile

import pytest

from prelabel.exports.bundle import ExportFormat, build_export
from prelabel.exports.common import Categories
from prelabel.exports.yolo import yolo_files, yolo_lines
from tests.unit.exports.samples import CAR, PROJECT, TASKS, label, task


def test_known_labels_give_exact_yolo_lines() -> None:
    # Given a 640x480 image with a car (entry 0 of the bbox entries) and a person (entry 1,
    # although it is the third entry of the configuration)
    # When its YOLO lines are built
    lines = yolo_lines(TASKS[0], Categories.of(PROJECT))
    # Then each is "class cx cy w h", normalized by the image size
    assert lines == [
        "0 0.2 0.2 0.2 0.2",
        "1 0.0322265625 0.1252604167 0.031640625 0.1661458333",
    ]


def test_yolo_files_skip_images_of_unknown_size_and_name_classes() -> None:
    # Given two images of known size (one without objects) and one not read yet
    # When the YOLO files are built
    files, skipped = yolo_files(PROJECT, TASKS)
    # Then each known image has a label file mirroring its key, empty when it has no objects
    assert files["labels/street/a.txt"].count("\n") == 2
    assert files["labels/street/b.txt"] == ""
    # And the image not read yet is left out rather than claimed to be empty
    assert skipped == ["t3"]
    assert "labels/street/c.txt" not in files
    # And classes.txt and data.yaml list the bbox entries in index order
    assert files["classes.txt"] == "Vehicle\nPerson\n"
    assert 'nc: 2\nnames:\n  0: "Vehicle"\n  1: "Person"\n' in files["data.yaml"]


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
    for line in yolo_lines(t, Categories.of(PROJECT)):
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
    (line,) = yolo_lines(t, Categories.of(PROJECT))
    # Then it covers only the part inside the image (x 600..640, y 0..20)
    assert line == "0 0.96875 0.0208333333 0.0625 0.0416666667"


def test_yolo_bundle_is_a_zip_with_a_summary() -> None:
    # Given the sample project; When exported as YOLO
    bundle = build_export(PROJECT, TASKS, ExportFormat.YOLO, "now")
    archive = zipfile.ZipFile(io.BytesIO(bundle.content()))
    # Then the zip holds the label files, the class lists and a summary naming what was left out
    assert sorted(archive.namelist()) == [
        "classes.txt",
        "data.yaml",
        "labels/street/a.txt",
        "labels/street/b.txt",
        "prelabel_export.json",
    ]
    assert bundle.media_type == "application/zip"
    assert bundle.filename == "prj_1-yolo.zip"
    assert bundle.skipped_task_ids == ("t3",)
    assert b'"skipped_task_ids": [\n    "t3"\n  ]' in archive.read("prelabel_export.json")
    # And the same labels give the same bytes (no timestamps inside the archive)
    assert build_export(PROJECT, TASKS, ExportFormat.YOLO, "now").content() == bundle.content()
    assert CAR.box.as_list() == [64.0, 48.0, 192.0, 144.0]
