"""Exports written into sinks a background job would use: a stream that cannot seek, lists
spooled to disk, and a failure halfway."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest

from prelabel.domain.entities import Task
from prelabel.export_formats import ExportFormat, streams, write_export
from tests.unit.exports.samples import MIXED, PROJECT, export


class ForwardOnly(io.RawIOBase):
    """A sink that only takes bytes, as an S3 multipart upload stream does."""

    def __init__(self) -> None:
        self.received = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.received += data
        return len(data)

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        raise OSError("not seekable")


def _contents(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("fmt", [f for f in ExportFormat if f.is_archive])
def test_a_sink_that_cannot_seek_gets_the_same_archive_content(fmt: ExportFormat) -> None:
    # Given the export of mixed tasks into memory
    seekable, _ = export(PROJECT, MIXED, fmt)
    # When the same export goes into a forward-only stream
    sink = ForwardOnly()
    write_export(PROJECT, iter(MIXED), fmt, sink, "2026-11-02T10:00:00+00:00")  # type: ignore[arg-type]
    # Then that stream holds a valid zip with the same files, byte for byte
    assert _contents(bytes(sink.received)) == _contents(seekable)
    assert zipfile.ZipFile(io.BytesIO(bytes(sink.received))).testzip() is None


def test_lists_spooled_past_memory_give_the_same_export(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the COCO and VOC exports of mixed tasks with spools kept in memory
    coco, _ = export(PROJECT, MIXED, ExportFormat.COCO)
    voc, _ = export(PROJECT, MIXED, ExportFormat.VOC)
    # When spools move to a temporary file after 16 bytes
    monkeypatch.setattr(streams, "SPOOL_MEMORY_BYTES", 16)
    coco_disk, _ = export(PROJECT, MIXED, ExportFormat.COCO)
    voc_disk, _ = export(PROJECT, MIXED, ExportFormat.VOC)
    # Then the exports are the same
    assert (coco_disk, voc_disk) == (coco, voc)
    assert len(json.loads(coco_disk)["annotations"]) == 5


def _failing_after(n: int) -> Iterator[Task]:
    yield from MIXED[:n]
    raise ConnectionError("the task table went away")


@pytest.mark.parametrize("fmt", [f for f in ExportFormat if f.is_archive])
def test_an_export_that_fails_halfway_does_not_open_as_a_whole_archive(fmt: ExportFormat) -> None:
    # Given tasks whose reading fails after three
    sink = io.BytesIO()
    # When they are exported
    with pytest.raises(ConnectionError):
        write_export(PROJECT, _failing_after(3), fmt, sink, "now")
    # Then the bytes written so far are not a zip (no central directory was written)
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(sink.getvalue()))
