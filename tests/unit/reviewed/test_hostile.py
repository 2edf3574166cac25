"""Files made to hurt: too large, bombs, names that climb out, entities, numbers JSON forbids,
shapes no tool writes. Each ends in a ReviewedFileError naming the place, or in the report;
nothing else is raised, and nothing is written to disk."""

from __future__ import annotations

import io
import json
import os
import random
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest

from prelabel.reviewed import (
    Finding,
    ReadLimits,
    ReviewedFile,
    ReviewedFileError,
    ReviewFormat,
    read_reviewed,
)
from tests.unit.reviewed.samples import ExportFormat, prelabel_export, zip_of
from tests.unit.reviewed.tools import cvat_coco_export, label_studio_export

VOC_OK = "<annotation><filename>a.jpg</filename><size><width>64</width><height>48</height></size></annotation>"


def _coco(bbox: Any, size: tuple[Any, Any] = (640, 480)) -> bytes:
    return json.dumps(
        {
            "images": [{"id": 1, "file_name": "a.jpg", "width": size[0], "height": size[1]}],
            "categories": [{"id": 1, "name": "Car"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": bbox}],
        }
    ).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe{}", r"^file: not UTF-8 text \(byte 0\)$"),
        (b'{"images": [', r"^file: not valid JSON: Expecting value: line 1 column 13"),
        (
            b'{"images": [{"width": NaN}]}',
            r"^file: not valid JSON: NaN is not a number JSON allows",
        ),
        (
            b'{"images": [{"width": -Infinity}]}',
            r"not valid JSON: -Infinity is not a number JSON allows",
        ),
        (
            b'{"images": [{"id": ' + b"9" * 5000 + b"}]}",
            r"^file: not valid JSON: Exceeds the limit \(4300 digits\) for integer string",
        ),
        (b"[" * 100_000 + b"]" * 100_000, r"^file: not valid JSON: nested too deeply$"),
    ],
)
def test_json_that_is_not_plain_json_is_refused(data: bytes, message: str) -> None:
    # Given a document with bytes, numbers or nesting JSON does not allow
    # When read
    # Then it is refused as a whole, saying why
    with pytest.raises(ReviewedFileError, match=message):
        read_reviewed(data, ReviewFormat.COCO)


@pytest.mark.parametrize(
    ("bbox", "finding", "example"),
    [
        ([1e300, 0, 5, 5], Finding.MALFORMED_BOX, "annotations[0].bbox[0]: 1e+300 is out of range"),
        ([True, 0, 5, 5], Finding.MALFORMED_BOX, "annotations[0].bbox[0]: True is not a number"),
        (["10", 0, 5, 5], Finding.MALFORMED_BOX, "annotations[0].bbox[0]: '10' is not a number"),
        (
            "10,0,5,5",
            Finding.MALFORMED_BOX,
            "annotations[0].bbox: '10,0,5,5' is not [x, y, width, height]",
        ),
        ([10, 10, -5, 5], Finding.EMPTY_BOX, "annotations[0]"),
        ([10, 10, 0, 5], Finding.EMPTY_BOX, "annotations[0]"),
        ([700, 10, 50, 50], Finding.OUTSIDE_IMAGE, "annotations[0]"),
        ([-80, -80, 50, 50], Finding.OUTSIDE_IMAGE, "annotations[0]"),
    ],
)
def test_a_box_no_image_can_hold_is_dropped_and_named(
    bbox: Any, finding: Finding, example: str
) -> None:
    # Given a 640x480 image with one impossible box
    # When read
    read = read_reviewed(_coco(bbox), ReviewFormat.COCO)
    # Then the image stays (reviewed), without the box, and the report names the box
    assert read.images[0].boxes == ()
    assert read.report.findings[finding].examples == (example,)
    assert read.report.boxes_found == read.report.boxes_dropped == 1


def test_numbers_past_their_range_are_named_where_they_stand() -> None:
    # Given a width of 1e999 (inf once parsed), and a box corner of -1e999
    data = _coco([-1e999, 0, 5, 5], size=(1e999, 480)).replace(b"Infinity", b"1e999")
    # When read
    read = read_reviewed(data, ReviewFormat.COCO)
    # Then the image is counted as malformed at its width, and its box as not imported
    assert read.report.findings[Finding.MALFORMED_IMAGE].examples == (
        "images[0].width: inf is not a whole number of pixels up to 1,000,000",
    )
    assert read.report.count(Finding.IMAGE_NOT_IMPORTED) == 1
    # And the same corner on a readable image is a malformed box
    read = read_reviewed(_coco([-1e999, 0, 5, 5]).replace(b"Infinity", b"1e999"), ReviewFormat.COCO)
    assert read.report.findings[Finding.MALFORMED_BOX].examples == (
        "annotations[0].bbox[0]: -inf is out of range",
    )


def test_a_box_over_the_edge_is_clipped() -> None:
    # Given a box from (600, -20) 100 wide and 100 high on a 640x480 image
    read = read_reviewed(_coco([600, -20, 100, 100]), ReviewFormat.COCO)
    # When read
    # Then it is cut at the right and top edges, and counted as clipped
    assert read.images[0].boxes[0].box.as_list() == [600.0, 0.0, 640.0, 80.0]
    assert read.report.count(Finding.CLIPPED) == 1


def test_limits_refuse_a_file_before_reading_it() -> None:
    # Given a COCO file of 3 images with 3 boxes on the first
    doc = {
        "images": [{"id": i, "file_name": f"{i}.jpg"} for i in range(3)],
        "categories": [{"id": 1, "name": "Car"}],
        "annotations": [
            {"id": k, "image_id": 0, "category_id": 1, "bbox": [k, k, 5, 5]} for k in range(3)
        ],
    }
    data = json.dumps(doc).encode()
    # When read under limits below what it holds
    # Then it is refused naming the limit, or (boxes per image) the extra boxes are dropped
    with pytest.raises(ReviewedFileError, match=r"^file: \d+ bytes; at most 100 are read$"):
        read_reviewed(data, ReviewFormat.COCO, limits=ReadLimits(max_file_bytes=100))
    with pytest.raises(ReviewedFileError, match=r"^file: \d+ bytes of JSON; at most 100 are read$"):
        read_reviewed(data, ReviewFormat.COCO, limits=ReadLimits(max_json_bytes=100))
    with pytest.raises(ReviewedFileError, match=r"^images: 3 images; at most 2 per file$"):
        read_reviewed(data, ReviewFormat.COCO, limits=ReadLimits(max_images=2))
    with pytest.raises(ReviewedFileError, match=r"^images: 3 annotations; at most 2 per file$"):
        read_reviewed(data, ReviewFormat.COCO, limits=ReadLimits(max_annotations=2))
    read = read_reviewed(data, ReviewFormat.COCO, limits=ReadLimits(max_boxes_per_image=2))
    assert len(read.images[0].boxes) == 2
    assert read.report.findings[Finding.TOO_MANY_BOXES].examples == ("annotations[2]",)


def _patched(data: bytes, *, size: int | None = None, flags: int | None = None) -> bytes:
    """A one-member zip with its headers' uncompressed size or flags rewritten (the lies a
    crafted zip tells)."""
    raw = bytearray(data)
    local, central = raw.find(b"PK\x03\x04"), raw.find(b"PK\x01\x02")
    if size is not None:
        struct.pack_into("<I", raw, local + 22, size)
        struct.pack_into("<I", raw, central + 24, size)
    if flags is not None:
        struct.pack_into("<H", raw, local + 6, flags)
        struct.pack_into("<H", raw, central + 8, flags)
    return bytes(raw)


def test_zip_bombs_are_refused_whatever_their_headers_say() -> None:
    # Given a 20 MiB annotation file of zeros (20 KB zipped), the same with headers claiming 100
    # bytes, and 3 members of 600 KiB each under a 1 MiB budget for the whole zip
    bomb = zip_of({"Annotations/a.xml": b"<" + b"0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    liar = _patched(bomb, size=100)
    many = zip_of({f"Annotations/{i}.xml": VOC_OK + " " * 600 * 1024 for i in range(3)})
    # When read as VOC
    # Then each is refused naming the member, having read at most the limit
    with pytest.raises(
        ReviewedFileError,
        match=r"^Annotations/a\.xml: 20,971,521 bytes; at most 1,048,576 are read$",
    ):
        read_reviewed(bomb, ReviewFormat.VOC)
    with pytest.raises(
        ReviewedFileError, match=r"^Annotations/a\.xml: cannot be unpacked \(Bad CRC-32"
    ):
        read_reviewed(liar, ReviewFormat.VOC)
    with pytest.raises(
        ReviewedFileError, match=r"^Annotations/1\.xml: the zip unpacks past 1,048,576 bytes in all"
    ):
        read_reviewed(many, ReviewFormat.VOC, limits=ReadLimits(max_unpacked_bytes=1024 * 1024))


def test_zips_that_are_not_plain_are_refused() -> None:
    # Given an encrypted member, too many members, and bytes that are no zip
    encrypted = _patched(zip_of({"Annotations/a.xml": VOC_OK}), flags=0x1)
    crowded = zip_of({f"Annotations/{i}.xml": VOC_OK for i in range(5)})
    # When read as VOC
    # Then each is refused saying why
    with pytest.raises(
        ReviewedFileError, match=r"^Annotations/a\.xml: cannot be unpacked \(.*encrypted"
    ):
        read_reviewed(encrypted, ReviewFormat.VOC)
    with pytest.raises(ReviewedFileError, match=r"^file: the zip holds 5 entries; at most 4$"):
        read_reviewed(crowded, ReviewFormat.VOC, limits=ReadLimits(max_zip_members=4))
    with pytest.raises(
        ReviewedFileError, match=r"^file: not a readable zip archive \(File is not a zip file\)$"
    ):
        read_reviewed(b"PK\x03\x04 and then nothing", ReviewFormat.CVAT_COCO)


@pytest.mark.parametrize(
    "name",
    [
        "../../evil.xml",
        "/abs/Annotations/a.xml",
        "C:/x/Annotations/a.xml",
        "Annotations\\..\\..\\a.xml",
    ],
)
def test_a_member_name_leading_out_of_the_archive_refuses_the_file(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a VOC zip with a member whose name leads outside the folder it is unpacked to
    data = zip_of({"Annotations/a.xml": VOC_OK, name: VOC_OK})
    monkeypatch.chdir(tmp_path)
    # When read
    # Then the file is refused, naming the entry, and nothing was written anywhere near
    with pytest.raises(
        ReviewedFileError,
        match=r"^zip entry .*: its name leads out of the archive; it is not read$",
    ):
        read_reviewed(data, ReviewFormat.VOC)
    assert list(tmp_path.iterdir()) == []
    assert not os.path.exists(tmp_path.parent.parent / "evil.xml")


LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>'
    "<annotation><filename>&lol2;</filename></annotation>"
)
EXTERNAL = '<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><annotation><filename>&e;</filename></annotation>'


@pytest.mark.parametrize(
    "document",
    [
        LAUGHS.encode(),
        EXTERNAL.encode(),
        ('<?xml version="1.0" encoding="utf-16"?>' + EXTERNAL).encode("utf-16"),
    ],
    ids=["entity-expansion", "external-entity", "utf-16"],
)
def test_xml_with_a_doctype_is_refused_however_encoded(document: bytes) -> None:
    # Given a VOC file declaring entities (expanding ones, an external one, in UTF-16)
    data = zip_of({"Annotations/a.xml": VOC_OK, "Annotations/b.xml": document})
    # When read
    # Then the whole file is refused, naming the member
    with pytest.raises(
        ReviewedFileError,
        match=r"^Annotations/b\.xml: holds a DOCTYPE; XML with a DOCTYPE is not read$",
    ):
        read_reviewed(data, ReviewFormat.VOC)


def test_an_entity_without_a_doctype_is_just_malformed() -> None:
    # Given an XML that uses an entity it never declared
    data = zip_of({"Annotations/a.xml": "<annotation><filename>&e;</filename></annotation>"})
    # When read
    read = read_reviewed(data, ReviewFormat.VOC)
    # Then that image is counted as not well-formed, nothing expanded
    assert read.images == ()
    assert (
        read.report.findings[Finding.MALFORMED_IMAGE]
        .examples[0]
        .startswith("Annotations/a.xml: not well-formed XML (undefined entity")
    )


VALUES: list[Any] = [
    None,
    "",
    "x",
    -1,
    0,
    1e308,
    10**30,
    [],
    {},
    True,
    [1, 2],
    "../../x",
    "s3://",
    {"a": None},
]


def _mutate(doc: Any, rng: random.Random) -> Any:
    """One value somewhere in `doc` replaced by one of VALUES (or removed from its object)."""
    node, path = doc, []
    while isinstance(node, dict | list) and node and rng.random() < 0.85:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if not path:
        return doc
    parent, key = path[-1]
    if isinstance(parent, dict) and rng.random() < 0.2:
        del parent[key]
    else:
        parent[key] = rng.choice(VALUES)
    return doc


@pytest.mark.parametrize(
    ("fmt", "make"),
    [
        (
            ReviewFormat.LABEL_STUDIO,
            lambda: label_studio_export(prelabel_export(ExportFormat.LABEL_STUDIO)),
        ),
        (ReviewFormat.COCO, lambda: prelabel_export(ExportFormat.COCO)),
    ],
)
def test_any_value_anywhere_gives_a_file_or_a_named_refusal(fmt: ReviewFormat, make: Any) -> None:
    # Given a real export with, 400 times over, 1 to 3 of its values replaced by another type
    rng = random.Random(21)
    original = make()
    files: list[ReviewedFile] = []
    refusals: list[ReviewedFileError] = []
    for _ in range(400):
        doc = json.loads(original)
        for _ in range(rng.randint(1, 3)):
            doc = _mutate(doc, rng)
        # When read
        try:
            files.append(read_reviewed(json.dumps(doc).encode(), fmt))
        except ReviewedFileError as exc:
            refusals.append(exc)
    # Then each is read (whatever was wrong counted, every box once) or refused, naming the
    # place; no other exception escapes
    assert len(files) > 300
    for read in files:
        kept = sum(len(i.boxes) for i in read.images)
        assert read.report.boxes_found == kept + read.report.boxes_dropped
    assert all(e.field and e.message.startswith(f"{e.field}: ") for e in refusals)


def test_bytes_flipped_in_a_zip_give_a_file_or_a_named_refusal() -> None:
    # Given CVAT's COCO zip with, 300 times over, a few bytes overwritten
    rng = random.Random(7)
    original = cvat_coco_export(prelabel_export(ExportFormat.COCO))
    outcomes: list[ReviewedFile | ReviewedFileError] = []
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        # When read
        try:
            outcomes.append(read_reviewed(bytes(data), ReviewFormat.CVAT_COCO))
        except ReviewedFileError as exc:
            outcomes.append(exc)
    # Then each is read or refused naming a place; no other exception escapes
    refusals = [o for o in outcomes if isinstance(o, ReviewedFileError)]
    assert 0 < len(refusals) < len(outcomes) == 300
    assert all(e.field for e in refusals)


def test_zip_reading_never_extracts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a VOC zip and a working folder that is empty
    monkeypatch.chdir(tmp_path)
    data = zip_of({"Annotations/a.xml": VOC_OK, "JPEGImages/a.jpg": b"\xff\xd8"})
    monkeypatch.setattr(zipfile.ZipFile, "extract", lambda *a, **k: pytest.fail("extract called"))
    monkeypatch.setattr(
        zipfile.ZipFile, "extractall", lambda *a, **k: pytest.fail("extractall called")
    )
    # When read
    read = read_reviewed(data, ReviewFormat.VOC)
    # Then the image is read from memory and the folder is still empty
    assert [i.ref.written for i in read.images] == ["a.jpg"]
    assert list(tmp_path.iterdir()) == []
    assert io.BytesIO(data).getbuffer().nbytes == len(data)
