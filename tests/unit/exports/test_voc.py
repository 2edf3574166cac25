"""Pascal VOC export: exact XML for known labels, the flat layout VOC tools read, and supervision
reading it as it is."""

# The XML parsed here is the export under test, the way a VOC reader would load it.
# ruff: noqa: S314

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("supervision", reason="supervision reads the export back (dev extra)")

import supervision as sv

from prelabel.domain.entities import Project
from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.export_formats import ExportFormat
from prelabel.export_formats.common import Categories, Tally
from prelabel.export_formats.voc import voc_xml
from prelabel.quality.priority import REST_VALUE
from tests.unit.exports.readers import assert_boxes_are_the_tasks, unpack_with_images
from tests.unit.exports.samples import (
    MIXED,
    NAMES,
    NEAR_PRIORITY,
    PROJECT,
    REF,
    TASKS,
    export,
    label,
    task,
)


def test_known_labels_give_exact_voc_objects() -> None:
    # Given a 640x480 image with a car and a person at fractional pixels
    # When its VOC XML is built and parsed
    root = ET.fromstring(voc_xml(TASKS[0], Categories.of(PROJECT), "a.jpg", Tally()))
    # Then it names the image's file in JPEGImages/, its S3 object and its size
    assert root.findtext("folder") == "JPEGImages"
    assert root.findtext("filename") == "a.jpg"
    assert root.findtext("source/image") == "s3://data/street/a.jpg"
    assert (root.findtext("size/width"), root.findtext("size/height")) == ("640", "480")
    # And each object carries its entry name, whole-pixel corners and the pre-label's provenance
    objects = [
        (
            o.findtext("name"),
            [o.findtext(f"bndbox/{k}") for k in ("xmin", "ymin", "xmax", "ymax")],
            o.findtext("score"),
            o.findtext("source"),
            o.findtext("detector_class"),
        )
        for o in root.iter("object")
    ]
    assert objects == [
        ("Vehicle", ["64", "48", "192", "144"], "0.91", "AI_PRE_LABEL", "car"),
        ("Person", ["10", "20", "31", "100"], "0.55", "AI_PRE_LABEL", "person"),
    ]


def test_names_with_markup_are_escaped() -> None:
    # Given an entry name and an image key with XML metacharacters
    project = Project(REF, "P", (LabelEntry("v", 'Car <&> "x"', Geometry.BBOX),))
    t = task("t1", "a&b/<c>.jpg", (label("v", "x", (1.0, 2.0, 3.0, 4.0)),))
    # When its VOC XML is built
    root = ET.fromstring(voc_xml(t, Categories.of(project), "<c>.jpg", Tally()))
    # Then the XML still parses and keeps the texts unchanged
    assert root.findtext("object/name") == 'Car <&> "x"'
    assert root.findtext("filename") == "<c>.jpg"


def test_voc_zip_has_the_flat_layout_with_image_set_and_label_map() -> None:
    # Given the sample project (two images read, one not yet)
    # When exported as VOC
    data, summary = export(PROJECT, TASKS, ExportFormat.VOC)
    archive = zipfile.ZipFile(io.BytesIO(data))
    # Then there is one flat annotation file per image of known size, with its boxes
    xml_names = [n for n in archive.namelist() if n.startswith("Annotations/")]
    counts = {n: len(ET.fromstring(archive.read(n)).findall("object")) for n in xml_names}
    assert counts == {"Annotations/a.xml": 2, "Annotations/b.xml": 0}
    # And the image set names them, the label map declares the classes, JPEGImages/ waits
    assert archive.read("ImageSets/Main/default.txt") == b"a\nb\n"
    assert (
        archive.read("labelmap.txt") == b"# label:color_rgb:parts:actions\nVehicle:::\nPerson:::\n"
    )
    assert archive.read("labels.txt") == b"Vehicle\nPerson\n"
    assert "JPEGImages/" in archive.namelist()
    # And the manifest maps each file to its image and lists the image left out
    manifest = json.loads(archive.read("prelabel_export.json"))
    assert [(f["image"], f["annotation"], f["image_key"]) for f in manifest["files"]] == [
        ("JPEGImages/a.jpg", "Annotations/a.xml", "street/a.jpg"),
        ("JPEGImages/b.png", "Annotations/b.xml", "street/b.png"),
    ]
    # And with each image's review priority, so a zip's images can be reviewed in that order
    assert [f["review_priority"] for f in manifest["files"]] == [NEAR_PRIORITY, REST_VALUE]
    assert manifest["skipped_task_ids"] == ["t3"]
    assert (summary.images, summary.skipped_images, summary.annotations) == (2, 1, 2)


def test_a_name_holding_a_colon_leaves_the_label_map_out() -> None:
    # Given an entry name with ':' (datumaro's label map separator)
    project = Project(REF, "P", (LabelEntry("v", "Car: small", Geometry.BBOX),))
    # When exported as VOC
    data, _ = export(project, [task("t1", "a.jpg")], ExportFormat.VOC)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    # Then there is no label map to misread (CVAT then takes the task's own labels)
    assert "labelmap.txt" not in names
    assert "labels.txt" in names


def test_voc_opens_in_supervision_with_the_tasks_boxes(tmp_path: Path) -> None:
    # Given the VOC export of tasks whose file names clash once flattened, unpacked with the
    # images put where its manifest says
    data, summary = export(PROJECT, MIXED, ExportFormat.VOC)
    manifest = unpack_with_images(data, tmp_path, MIXED)
    # When supervision loads it as a Pascal VOC dataset
    ds = sv.DetectionDataset.from_pascal_voc(
        str(tmp_path / "JPEGImages"), str(tmp_path / "Annotations")
    )
    # Then every image of known size is there
    assert len(ds) == summary.images == len(MIXED) - 1
    # And its boxes are the task's labels: whole pixels, and supervision reads VOC's corners
    # as the devkit's 1-based ones (xmin, ymin one pixel less), so within 1.5 px
    assert sorted(ds.classes) == ["Person", "Vehicle"]
    assert_boxes_are_the_tasks(ds, tmp_path, manifest, MIXED, NAMES, tolerance_px=1.5)
