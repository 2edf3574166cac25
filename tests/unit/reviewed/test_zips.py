"""Pascal VOC and CVAT COCO 1.0 zips: where the files may sit, what each XML or JSON member says,
and what in them is not read."""

from __future__ import annotations

import json

import pytest

from prelabel.reviewed import Finding, ReviewedFileError, ReviewFormat, read_reviewed, sniff_format
from tests.unit.reviewed.samples import zip_of


def _voc(
    filename: str | None, objects: str, size: tuple[int, int] = (640, 480), source: str = "Unknown"
) -> str:
    name = f"<filename>{filename}</filename>" if filename is not None else ""
    return (
        f"<annotation><folder>JPEGImages</folder>{name}<source><image>{source}</image></source>"
        f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>"
        f"{objects}</annotation>"
    )


def _object(name: str, corners: tuple[str, str, str, str], difficult: str = "0") -> str:
    xmin, ymin, xmax, ymax = corners
    return (
        f"<object><name>{name}</name><pose>Unspecified</pose><truncated>1</truncated>"
        f"<difficult>{difficult}</difficult><bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin>"
        f"<xmax>{xmax}</xmax><ymax>{ymax}</ymax></bndbox></object>"
    )


def test_voc_objects_with_their_flags_and_names() -> None:
    # Given a VOC zip re-zipped on a Mac inside a folder: a difficult object with decimal
    # corners, an object written as a polygon, the S3 object named in <source><image>
    polygon = "<object><name>Road</name><polygon><x1>1</x1><y1>1</y1></polygon></object>"
    members = {
        "export/Annotations/a.xml": _voc(
            "a.jpg",
            _object("Car", ("10.5", "20", "110", "220"), "1") + polygon,
            source="s3://data/street/a.jpg",
        ),
        "export/Annotations/b.xml": _voc("b.jpg", ""),
        "export/ImageSets/Main/default.txt": "a\nb\n",
        "export/JPEGImages/a.jpg": b"\xff\xd8",
        "__MACOSX/export/Annotations/._a.xml": b"\x00\x05\x16\x07 resource fork",
    }
    data = zip_of(members)
    assert sniff_format(data) is ReviewFormat.VOC
    # When read
    read = read_reviewed(data, ReviewFormat.VOC)
    # Then each annotation file is an image, named by its S3 object or its file name
    a, b = read.images
    assert (a.ref.bucket, a.ref.key, b.ref.written, b.ref.key) == (
        "data",
        "street/a.jpg",
        "b.jpg",
        "b.jpg",
    )
    # And the box keeps its decimal corner and its difficult flag; truncated is not read
    assert [(x.label, x.box.as_list(), x.difficult) for x in a.boxes] == [
        ("Car", [10.5, 20.0, 110.0, 220.0], True)
    ]
    assert a.place == "export/Annotations/a.xml"
    # And the polygon is skipped as not a box; the resource fork is not read at all
    assert read.report.findings[Finding.NOT_A_BOX].examples == (
        "export/Annotations/a.xml: object[1]",
    )
    assert read.report.images_found == 2


def test_voc_files_that_cannot_be_read_are_counted_by_name() -> None:
    # Given an XML that is not well-formed, one without <filename>, one with another root,
    # one whose size is 0 (unknown), and one with a corner that is not a number
    members = {
        "Annotations/broken.xml": "<annotation><filename>x.jpg</filename>",
        "Annotations/nameless.xml": _voc(None, ""),
        "Annotations/other.xml": "<html><body/></html>",
        "Annotations/sizeless.xml": _voc(
            "s.jpg", _object("Car", ("1", "2", "3", "4")), size=(0, 0)
        ),
        "Annotations/text.xml": _voc("t.jpg", _object("Car", ("1", "two", "3", "4"))),
    }
    # When read
    read = read_reviewed(zip_of(members), ReviewFormat.VOC)
    # Then the readable ones are images, the unreadable ones are counted with their reason
    assert [(i.ref.written, i.size, len(i.boxes)) for i in read.images] == [
        ("s.jpg", None, 1),
        ("t.jpg", (640, 480), 0),
    ]
    examples = read.report.findings[Finding.MALFORMED_IMAGE].examples
    assert examples[0].startswith("Annotations/broken.xml: not well-formed XML (no element found")
    assert examples[1:] == (
        "Annotations/nameless.xml: filename: missing: the image cannot be named",
        "Annotations/other.xml: the root element is <html>, not <annotation>",
    )
    assert read.report.findings[Finding.MALFORMED_BOX].examples == (
        "Annotations/text.xml: object[0].bndbox.ymin: 'two' is not a number",
    )


def test_a_zip_that_is_not_voc_is_refused_saying_what_was_looked_for() -> None:
    # Given a zip of images only, and one with Annotations folders in two places
    only_images = zip_of({"JPEGImages/a.jpg": b"\xff\xd8"})
    two_roots = zip_of(
        {"x/Annotations/a.xml": _voc("a.jpg", ""), "y/Annotations/a.xml": _voc("a.jpg", "")}
    )
    # When read as VOC
    # Then each is refused with what was expected
    with pytest.raises(ReviewedFileError, match=r"file: no Annotations/\*\.xml in the zip"):
        read_reviewed(only_images, ReviewFormat.VOC)
    with pytest.raises(
        ReviewedFileError, match=r"Annotations folders in several places \(\['x', 'y'\]\)"
    ):
        read_reviewed(two_roots, ReviewFormat.VOC)


def _cvat_coco(file_name: str, ann_bbox: list[float]) -> str:
    return json.dumps(
        {
            "categories": [{"id": 1, "name": "Car", "supercategory": ""}],
            "images": [{"id": 1, "width": 640, "height": 480, "file_name": file_name}],
            "annotations": [
                {
                    "id": 1,
                    "image_id": 1,
                    "category_id": 1,
                    "bbox": ann_bbox,
                    "iscrowd": 0,
                    "segmentation": [],
                    "attributes": {"occluded": False, "rotation": 0.0},
                }
            ],
        }
    )


def test_cvat_coco_reads_every_subset_and_names_places_by_member() -> None:
    # Given CVAT's COCO 1.0 zip of a task with a train and a val subset, images included,
    # one annotation with a bbox that is not four numbers
    members = {
        "annotations/instances_train.json": _cvat_coco("cam/a.jpg", [1, 2, 3, 4]),
        "annotations/instances_val.json": _cvat_coco("cam/b.jpg", [1, 2, 3]),
        "images/train/cam/a.jpg": b"\xff\xd8",
        "images/val/cam/b.jpg": b"\xff\xd8",
    }
    # When read
    read = read_reviewed(zip_of(members), ReviewFormat.CVAT_COCO)
    # Then both subsets' images are read, keyed by their paths
    assert [(i.ref.key, len(i.boxes)) for i in read.images] == [("cam/a.jpg", 1), ("cam/b.jpg", 0)]
    # And the bad box is named by its member and place
    assert read.report.findings[Finding.MALFORMED_BOX].examples == (
        "annotations/instances_val.json: annotations[0].bbox: [1, 2, 3] is not [x, y, width, height]",
    )


def test_a_zip_without_cvat_coco_annotations_is_refused() -> None:
    # Given a zip holding a COCO file under another name, and one with broken JSON inside
    elsewhere = zip_of({"labels.json": _cvat_coco("a.jpg", [1, 2, 3, 4])})
    broken = zip_of({"annotations/instances_default.json": '{"images": ['})
    # When read as CVAT COCO
    # Then the first says what it looked for, the second names the member
    with pytest.raises(
        ReviewedFileError, match=r"no annotations/instances_<subset>\.json in the zip"
    ):
        read_reviewed(elsewhere, ReviewFormat.CVAT_COCO)
    with pytest.raises(
        ReviewedFileError, match=r"annotations/instances_default\.json: not valid JSON"
    ):
        read_reviewed(broken, ReviewFormat.CVAT_COCO)


def test_sniffing_tells_the_formats_apart_or_says_none() -> None:
    # Given files of each kind, a JSON with a byte order mark, and files of no known kind
    cases = {
        b'\xef\xbb\xbf  [{"data": {}}]': ReviewFormat.LABEL_STUDIO,
        b'\n{"images": []}': ReviewFormat.COCO,
        zip_of({"Annotations/a.xml": "<annotation/>"}): ReviewFormat.VOC,
        zip_of({"annotations/instances_default.json": "{}"}): ReviewFormat.CVAT_COCO,
        zip_of({"images/a.jpg": b"\xff\xd8"}): None,
        zip_of({"../Annotations/a.xml": "<annotation/>"}): None,
        b"PK\x03\x04 broken": None,
        b"<annotation/>": None,
    }
    # When sniffed
    # Then each is named by what it holds, and None where nothing fits
    assert {data: sniff_format(data) for data in cases} == cases
