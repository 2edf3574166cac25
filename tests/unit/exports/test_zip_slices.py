"""Zips made of slices' parts (export_formats/slices.py, assembly.py, zip_records.py): valid
archives whatever the slices hold (none, or only tasks left out), ZIP64 where offsets, sizes or
the number of members pass zipfile's limits, and CRCs combined from pieces as zlib does."""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib

import pytest

from prelabel.domain.entities import Task
from prelabel.export_formats import ExportFormat, write_export, zip_records
from prelabel.export_formats.assembly import SlicePart, zip_pieces
from prelabel.export_formats.slices import write_zip_slice
from prelabel.export_formats.writer import ZIP_FORMATS
from tests.unit.exports.samples import CAR, PERSON, PROJECT, task

TASKS = [
    task(
        f"t{i:03d}",
        f"cam{i % 2}/{i:04d}.jpg",
        (CAR, PERSON)[: i % 3],
        (640, 480) if i % 4 else None,
    )
    for i in range(30)
]


def _sliced(fmt: ExportFormat, chunks: list[list[Task]]) -> bytes:
    """The export written slice by slice, then made from the parts as S3 would join them."""
    zf = ZIP_FORMATS[fmt]
    store: dict[str, bytes] = {}
    parts = []
    for n, chunk in enumerate(chunks):
        sink = io.BytesIO()
        names = zf.naming.chooser() if zf.naming else None
        output = write_zip_slice(zf, PROJECT, chunk, sink, names)
        store[f"part-{n}"] = sink.getvalue()
        parts.append(SlicePart(f"part-{n}", json.loads(json.dumps(output))))
    pieces = zip_pieces(zf, fmt, PROJECT, parts, "now", lambda k, a, b: store[k][a:b])
    return b"".join(p if isinstance(p, bytes) else store[p.key][p.start : p.end] for p in pieces)


def _one_step(fmt: ExportFormat, tasks: list[Task]) -> bytes:
    sink = io.BytesIO()
    write_export(PROJECT, tasks, fmt, sink, "now")
    return sink.getvalue()


def _same_members(a: bytes, b: bytes) -> None:
    za, zb = zipfile.ZipFile(io.BytesIO(a)), zipfile.ZipFile(io.BytesIO(b))
    assert zb.testzip() is None
    assert za.namelist() == zb.namelist()
    for name in za.namelist():
        assert za.read(name) == zb.read(name), name


@pytest.mark.parametrize("fmt", [f for f in ExportFormat if f.is_archive])
def test_slices_with_nothing_or_only_left_out_tasks_still_make_a_whole_archive(
    fmt: ExportFormat,
) -> None:
    # Given slices that hold nothing, or only tasks without a size, around ones that hold some
    # (no two tasks share a name, so names chosen apart are the one-step export's)
    unsized = [t for t in TASKS if not t.image_width]
    sized = [t for t in TASKS if t.image_width]
    chunks = [[], unsized[:3], sized[:10], [], sized[10:], unsized[3:]]
    # When the archive is made of them
    made = _sliced(fmt, chunks)
    # Then it holds what the one-step export of the same tasks, in slice order, holds
    _same_members(_one_step(fmt, [t for c in chunks for t in c]), made)


def test_an_export_of_no_task_in_slices_is_the_empty_archive() -> None:
    # Given slices of no task; When they are made into an archive
    made = _sliced(ExportFormat.VOC, [[], []])
    # Then it opens, with the fixed files and an empty manifest, as the one-step export
    _same_members(_one_step(ExportFormat.VOC, []), made)


def test_past_zipfiles_limits_the_archive_is_zip64_and_readers_still_open_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given limits of 100 bytes and 5 members (zipfile's are 2 GiB and 65,535)
    monkeypatch.setattr(zip_records, "ZIP64_LIMIT", 100)
    monkeypatch.setattr(zip_records, "FILECOUNT_LIMIT", 5)
    chunks = [TASKS[:12], TASKS[12:]]
    # When an archive is made of slices
    made = _sliced(ExportFormat.YOLO, chunks)
    # Then its records past 100 bytes carry ZIP64 offsets and sizes, it ends with the ZIP64
    # end record and locator, and zipfile reads every member back (CRCs checked)
    assert b"PK\x06\x06" in made[-200:] and b"PK\x06\x07" in made[-120:]
    _same_members(_one_step(ExportFormat.YOLO, TASKS), made)
    big = zipfile.ZipFile(io.BytesIO(made)).getinfo("prelabel_export.json")
    assert big.header_offset > 100 and big.file_size > 100


def test_crcs_combine_as_the_crc_of_the_whole() -> None:
    # Given pieces of random bytes, one empty
    pieces = [os.urandom(n) for n in (0, 1, 7, 1000, 65_537)]
    # When their CRCs are combined in order
    crc = 0
    for piece in pieces:
        crc = zip_records.crc32_combine(crc, zlib.crc32(piece), len(piece))
    # Then it is the CRC of them joined
    assert crc == zlib.crc32(b"".join(pieces))


def test_pieces_deflated_apart_inflate_as_one_stream() -> None:
    # Given text deflated in three pieces, the last one ending the stream
    texts = [b"[\n", b'{"a": 1},\n' * 500, b"]\n"]
    joined = b"".join(zip_records.deflated(t, last=i == 2) for i, t in enumerate(texts))
    # When the pieces are inflated as one raw deflate stream; Then it is the text
    assert zlib.decompress(joined, -15) == b"".join(texts)


def test_records_survive_being_packed_and_moved() -> None:
    # Given the records zipfile keeps of an archive's members
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", "x" * 100)
        archive.writestr("dir/é.txt", "y")
        infos = archive.infolist()
    # When they are packed, unpacked and moved 1,000 bytes on
    records = list(
        zip_records.unpack_records(b"".join(zip_records.Record.of(i).pack() for i in infos))
    )
    moved = [r.moved(1000) for r in records]
    # Then they say what zipfile said, at the new offsets (a UTF-8 name flagged as such)
    assert [r.name for r in records] == [b"a.txt", "dir/é.txt".encode()]
    assert [r.offset for r in moved] == [i.header_offset + 1000 for i in infos]
    assert [(r.crc, r.file_size) for r in records] == [(i.CRC, i.file_size) for i in infos]
    assert records[1].flag_bits & 0x800
