"""An export written in slices made into one file: the pieces of the file in order, bytes made
here and spans of the slices' parts, which S3 copies where they are (UploadPartCopy).

COCO: the document's opening, every slice's images, the text between the arrays, every slice's
annotations, `info`. A zip: the fixed members, every slice's members (offsets moved by where
the slice's members land), each member made of every task's items (its local header, written
here with the CRC and lengths the slices measured, then its deflated pieces), the central
directory of them all, the end records (ZIP64 where needed).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prelabel.domain.entities import Project
from prelabel.export_formats.coco import ANNOTATIONS, IMAGES, coco_texts
from prelabel.export_formats.common import Categories
from prelabel.export_formats.formats import ExportFormat
from prelabel.export_formats.manifest import (
    FILES,
    MANIFEST_NAME,
    SKIPPED,
    manifest_header,
    manifest_texts,
)
from prelabel.export_formats.parts import ZipFormat
from prelabel.export_formats.slices import tally_of
from prelabel.export_formats.streams import Archive, Stream, member_info
from prelabel.export_formats.zip_records import (
    Record,
    crc32_combine,
    deflated,
    directory,
    local_header,
    unpack_records,
)
from prelabel.ports.objects import Piece, Span

# Reads bytes [start, end) of a slice's part.
Reader = Callable[[str, int, int], bytes]


@dataclass(frozen=True, slots=True)
class SlicePart:
    """A slice's part (its key) and what the slice said of it."""

    key: str
    output: Mapping[str, Any]


def _fragments(parts: Sequence[SlicePart], stream: str) -> Iterator[tuple[Span, int, int]]:
    """Each slice's piece of the stream that holds items, with its CRC and length (the first
    without its leading separator)."""
    first = True
    for part in parts:
        f = part.output["streams"][stream]
        if not f["count"]:
            continue
        start, end = f["at"]
        if first:
            yield Span(part.key, start + f["trim"], end), f.get("crc1", 0), f.get("size1", 0)
        else:
            yield Span(part.key, start, end), f.get("crc", 0), f.get("size", 0)
        first = False


def _count(parts: Sequence[SlicePart], stream: str) -> int:
    return sum(int(p.output["streams"][stream]["count"]) for p in parts)


def coco_pieces(project: Project, parts: Sequence[SlicePart], created_at: str) -> Iterator[Piece]:
    tally = tally_of(p.output for p in parts)
    head, middle, tail = coco_texts(project, Categories.of(project), tally, created_at)
    yield head + IMAGES.opening
    yield from (span for span, _, _ in _fragments(parts, IMAGES.name))
    yield IMAGES.closing_for(tally.images) + middle + ANNOTATIONS.opening
    yield from (span for span, _, _ in _fragments(parts, ANNOTATIONS.name))
    yield ANNOTATIONS.closing_for(_count(parts, ANNOTATIONS.name)) + tail


@dataclass(frozen=True, slots=True)
class Member:
    """A member made here: its pieces (local header first), its record, its length."""

    pieces: list[Piece]
    record: Record
    length: int


def spliced_member(
    name: str, layout: Sequence[bytes | Stream], parts: Sequence[SlicePart], offset: int
) -> Member:
    """A deflated member made of text (`bytes`) and every slice's piece of a stream, in the
    order of `layout` (which ends with text)."""
    pieces: list[Piece] = []
    crc = size = compressed = 0
    for n, element in enumerate(layout):
        if isinstance(element, bytes):
            data = deflated(element, last=n == len(layout) - 1)
            pieces.append(data)
            crc = crc32_combine(crc, zlib.crc32(element), len(element))
            size, compressed = size + len(element), compressed + len(data)
            continue
        for span, piece_crc, piece_size in _fragments(parts, element.name):
            pieces.append(span)
            crc = crc32_combine(crc, piece_crc, piece_size)
            size, compressed = size + piece_size, compressed + span.end - span.start
    info = member_info(name)
    info.CRC, info.compress_size, info.file_size = crc, compressed, size
    record = Record.of(info, offset)
    header = local_header(record)
    return Member([header, *pieces], record, len(header) + compressed)


def _fixed(zf: ZipFormat, project: Project) -> tuple[bytes, list[Record]]:
    buffer = io.BytesIO()
    archive = Archive(buffer)
    for name, data in zf.fixed(project, Categories.of(project)):
        archive.add(name, data) if data is not None else archive.folder(name)
    archive.leave_open()
    return buffer.getvalue(), [Record.of(info) for info in archive.written()]


def zip_pieces(
    zf: ZipFormat,
    fmt: ExportFormat,
    project: Project,
    parts: Sequence[SlicePart],
    created_at: str,
    read: Reader,
) -> Iterator[Piece]:
    fixed, records = _fixed(zf, project)
    yield fixed
    offset = len(fixed)
    bases = []
    for part in parts:
        bases.append(offset)
        if part.output["entries"]:
            yield Span(part.key, 0, int(part.output["entries"]))
            offset += int(part.output["entries"])
    made = []
    for stream in zf.streams:
        count = _count(parts, stream.name)
        layout: list[bytes | Stream] = [stream.opening, stream, stream.closing_for(count)]
        made.append(spliced_member(stream.name, layout, parts, offset))
        yield from made[-1].pieces
        offset += made[-1].length
    manifest = _manifest(fmt, project, parts, created_at, offset)
    yield from manifest.pieces

    def all_records() -> Iterator[Record]:
        yield from records
        for part, base in zip(parts, bases, strict=True):
            start, end, _ = part.output["records"]
            yield from (r.moved(base) for r in unpack_records(read(part.key, start, end)))
        yield from (m.record for m in (*made, manifest))

    yield from directory(all_records(), offset + manifest.length)


def _manifest(
    fmt: ExportFormat,
    project: Project,
    parts: Sequence[SlicePart],
    created_at: str,
    offset: int,
) -> Member:
    tally = tally_of(p.output for p in parts)
    head, middle, tail = manifest_texts(manifest_header(project, fmt, created_at), tally)
    skipped, files = _count(parts, SKIPPED.name), _count(parts, FILES.name)
    layout: list[bytes | Stream] = [
        head + SKIPPED.opening,
        SKIPPED,
        SKIPPED.closing_for(skipped) + middle + FILES.opening,
        FILES,
        FILES.closing_for(files) + tail,
    ]
    return spliced_member(MANIFEST_NAME, layout, parts, offset)
