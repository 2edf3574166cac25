"""An export written in slices: each slice writes its tasks' parts into a part of its own, and
says where in it each piece lies (its output, a small JSON object); export_formats/assembly.py
then makes the file from the parts.

COCO: the slice's image items, then its annotation items, each item led by its separator, so
the file joins them as they are (the first slice with items drops its first separator). Ids
are unique across slices, not consecutive: slice n numbers its images and annotations from
n x ID_STRIDE + 1 (slice 0 as a one-slice export does).

Zips: the slice's members (local headers and data, offsets from the part's start), then their
directory records (zip_records.Record), then one deflated piece per stream (VOC's image set,
Label Studio's tasks.json, the manifest's lists): a separator piece, then the items, each
ending on a full flush, with the CRCs and lengths the member's directory needs.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import IO, Any

from prelabel.domain.entities import Project, Task
from prelabel.export_formats.coco import coco_items
from prelabel.export_formats.common import Categories, FileNames, Tally, image_suffix
from prelabel.export_formats.manifest import FILES, SKIPPED, file_item, skipped_item
from prelabel.export_formats.parts import TaskOut, ZipFormat
from prelabel.export_formats.streams import Archive, Spool, Stream
from prelabel.export_formats.zip_records import DeflatePiece, Record, crc32_combine, deflated

# Slice n's COCO ids start after n x ID_STRIDE (a slice holds far fewer tasks and boxes).
ID_STRIDE = 100_000_000


def tally_of(outputs: Iterable[Mapping[str, Any]]) -> Tally:
    total = Tally()
    for output in outputs:
        for field, value in output["tally"].items():
            setattr(total, field, getattr(total, field) + int(value))
    return total


def write_coco_slice(
    project: Project, tasks: Iterable[Task], sink: IO[bytes], names: FileNames, number: int
) -> dict[str, Any]:
    categories = Categories.of(project)
    tally = Tally()
    base = number * ID_STRIDE
    annotations = 0
    with Spool() as spool:
        for n, task in enumerate(tasks, start=1):
            ids = (base + n, base + annotations + 1)
            file_name = names.name(task) + image_suffix(task)
            image, items = coco_items(task, ids, file_name, categories, tally)
            sink.write(b"," + image)
            for item in items:
                spool.write(b"," + item)
            annotations += len(items)
        images_end = sink.tell()
        spool.copy_to(sink)
    return {
        "tally": tally.counts(),
        "streams": {
            "images": {"at": [0, images_end], "trim": 1, "count": tally.images},
            "annotations": {"at": [images_end, sink.tell()], "trim": 1, "count": annotations},
        },
    }


class _Piece(Spool):
    """A stream's deflated piece: its separator deflated alone, then its items."""

    def __init__(self, stream: Stream) -> None:
        super().__init__()
        self._separator = stream.separator
        self._deflate = DeflatePiece()
        self.count = 0
        self.trim = 0

    def add(self, data: bytes) -> None:
        if not self.count and self._separator:
            head = deflated(self._separator, last=False)
            self.trim = len(head)
            self.write(head)
        self.write(self._deflate.compress((self._separator if self.count else b"") + data))
        self.count += 1

    def output(self, start: int, end: int) -> dict[str, Any]:
        sep = self._separator if self.count else b""
        return {
            "at": [start, end],
            "trim": self.trim,
            "count": self.count,
            "crc": crc32_combine(zlib.crc32(sep), self._deflate.crc, self._deflate.size),
            "size": len(sep) + self._deflate.size,
            "crc1": self._deflate.crc,
            "size1": self._deflate.size,
        }

    def finish(self) -> None:
        if self.count:
            self.write(self._deflate.close())


class SliceOut(TaskOut):
    """A task's parts into a slice's part: its members at once, its stream items deflated."""

    def __init__(
        self, zf: ZipFormat, categories: Categories, names: FileNames | None, sink: IO[bytes]
    ) -> None:
        super().__init__(categories, names)
        self.archive = Archive(sink)
        self.pieces = {s.name: _Piece(s) for s in (*zf.streams, SKIPPED, FILES)}

    def entry(self, name: str, data: str | bytes) -> None:
        self.archive.add(name, data)

    def item(self, stream: str, data: bytes) -> None:
        self.pieces[stream].add(data)

    def file(self, task: Task, image: str | None, annotation: str) -> None:
        self.pieces[FILES.name].add(file_item(task, image, annotation))

    def skip(self, task: Task) -> None:
        self.pieces[SKIPPED.name].add(skipped_item(task))


def write_zip_slice(
    zf: ZipFormat,
    project: Project,
    tasks: Iterable[Task],
    sink: IO[bytes],
    names: FileNames | None,
) -> dict[str, Any]:
    out = SliceOut(zf, Categories.of(project), names, sink)
    try:
        for task in tasks:
            zf.write_task(task, out)
        out.archive.leave_open()
        entries = sink.tell()
        records = b"".join(Record.of(info).pack() for info in out.archive.written())
        sink.write(records)
        streams: dict[str, Any] = {}
        for name, piece in out.pieces.items():
            piece.finish()
            start = sink.tell()
            piece.copy_to(sink)
            streams[name] = piece.output(start, sink.tell())
    finally:
        out.archive.leave_open()
        for piece in out.pieces.values():
            piece.close()
    return {
        "tally": out.tally.counts(),
        "entries": entries,
        "records": [entries, entries + len(records), len(out.archive.written())],
        "streams": streams,
    }
