"""Pascal VOC export: exact XML for known labels; every file parses and box counts match."""

# The XML parsed here is the export under test, the way a VOC reader would load it.
# ruff: noqa: S314

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

from prelabel.domain.entities import Project
from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.exports.bundle import ExportFormat, build_export
from prelabel.exports.common import Categories
from prelabel.exports.voc import voc_files, voc_xml
from tests.unit.exports.samples import PROJECT, REF, TASKS, label, task


def test_known_labels_give_exact_voc_objects() -> None:
    # Given a 640x480 image with a car and a person at fractional pixels
    # When its VOC XML is built and parsed
    root = ET.fromstring(voc_xml(TASKS[0], Categories.of(PROJECT)))
    # Then it names the image and its size
    assert root.findtext("filename") == "a.jpg"
    assert root.findtext("folder") == "street"
    assert root.findtext("path") == "street/a.jpg"
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
    root = ET.fromstring(voc_xml(t, Categories.of(project)))
    # Then the XML still parses and keeps the texts unchanged
    assert root.findtext("object/name") == 'Car <&> "x"'
    assert root.findtext("filename") == "<c>.jpg"


def test_voc_zip_files_parse_and_box_counts_match() -> None:
    # Given the sample project (two images read, one not yet)
    # When exported as VOC and every XML file of the zip is parsed
    bundle = build_export(PROJECT, TASKS, ExportFormat.VOC, "now")
    archive = zipfile.ZipFile(io.BytesIO(bundle.content()))
    xml_names = sorted(n for n in archive.namelist() if n.endswith(".xml"))
    counts = {n: len(ET.fromstring(archive.read(n)).findall("object")) for n in xml_names}
    # Then there is one file per image of known size, with as many objects as the task has boxes
    assert counts == {"Annotations/street/a.xml": 2, "Annotations/street/b.xml": 0}
    assert archive.read("labels.txt") == b"Vehicle\nPerson\n"
    assert bundle.skipped_task_ids == ("t3",)


def test_voc_files_skip_images_of_unknown_size() -> None:
    # Given only a task that has not been read yet
    # When the VOC files are built
    files, skipped = voc_files(PROJECT, [task("t9", "z.jpg", size=None)])
    # Then no annotation file is made for it, and it is reported
    assert [n for n in files if n.startswith("Annotations/")] == []
    assert skipped == ["t9"]
