"""The one entry for every format: tasks in, an export written into a binary sink.

`tasks` is read once, front to back, and may be a generator reading the project page by page;
output goes to `sink` as it is made. Memory stays flat in the number of tasks, apart from small
per-file records (the set of file names given, zipfile's directory entry of each file), so the
same call serves the API's inline answer (a BytesIO) and a job writing to S3. (A large export
is written in slices instead: export_formats/slices.py.)
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from typing import IO

from prelabel.domain.entities import Project, Task
from prelabel.export_formats.coco import write_coco
from prelabel.export_formats.common import Categories, Tally
from prelabel.export_formats.formats import ExportFormat, ExportSummary
from prelabel.export_formats.labelstudio import LabelStudio
from prelabel.export_formats.manifest import Manifest
from prelabel.export_formats.parts import TaskOut, ZipFormat
from prelabel.export_formats.streams import Archive, LiveStream, StreamSpool
from prelabel.export_formats.voc import Voc
from prelabel.export_formats.yolo import Yolo

ZIP_FORMATS: dict[ExportFormat, ZipFormat] = {
    ExportFormat.YOLO: Yolo(flat=False),
    ExportFormat.YOLO_FLAT: Yolo(flat=True),
    ExportFormat.VOC: Voc(),
    ExportFormat.LABEL_STUDIO: LabelStudio(),
}


class ArchiveOut(TaskOut):
    """A task's parts straight into the archive, its stream items and manifest entries
    spooled until the end."""

    def __init__(
        self, zf: ZipFormat, categories: Categories, archive: Archive, manifest: Manifest
    ) -> None:
        super().__init__(categories, zf.naming.chooser() if zf.naming else None)
        self.archive = archive
        self.manifest = manifest
        self.streams: dict[str, StreamSpool | LiveStream] = {}

    def entry(self, name: str, data: str | bytes) -> None:
        self.archive.add(name, data)

    def item(self, stream: str, data: bytes) -> None:
        self.streams[stream].append(data)

    def file(self, task: Task, image: str | None, annotation: str) -> None:
        self.manifest.add_file(task, image, annotation)

    def skip(self, task: Task) -> None:
        self.manifest.skip(task)


def write_archive(
    zf: ZipFormat, project: Project, tasks: Iterable[Task], archive: Archive, manifest: Manifest
) -> Tally:
    categories = Categories.of(project)
    out = ArchiveOut(zf, categories, archive, manifest)
    for name, data in zf.fixed(project, categories):
        archive.add(name, data) if data is not None else archive.folder(name)
    streams = list(zf.streams)
    live_stream = streams.pop(0) if not zf.entries and streams else None
    with ExitStack() as spooled:
        spools = [spooled.enter_context(StreamSpool(s)) for s in streams]
        out.streams.update({s.stream.name: s for s in spools})
        with ExitStack() as open_member:
            live = None
            if live_stream is not None:
                live = LiveStream(
                    live_stream, open_member.enter_context(archive.member(live_stream.name))
                )
                out.streams[live_stream.name] = live
            for task in tasks:
                zf.write_task(task, out)
            if live is not None:
                live.finish()
        for spool in spools:
            archive.add_stream(spool)
    return out.tally


def write_export(
    project: Project,
    tasks: Iterable[Task],
    fmt: ExportFormat,
    sink: IO[bytes],
    created_at: str,
) -> ExportSummary:
    """All of `tasks` in `fmt` into `sink`. `created_at` comes from the caller: the domain has
    no clock. The sink need not seek."""
    if fmt is ExportFormat.COCO:
        tally = write_coco(project, tasks, sink, created_at)
    else:
        with Archive(sink) as archive, Manifest(project, fmt, created_at) as manifest:
            tally = write_archive(ZIP_FORMATS[fmt], project, tasks, archive, manifest)
            manifest.write(archive, tally)
    return summary_of(fmt, project, tally)


def summary_of(fmt: ExportFormat, project: Project, tally: Tally) -> ExportSummary:
    return ExportSummary(
        format=fmt,
        project_id=project.ref.project_id,
        images=tally.images,
        annotations=tally.annotations,
        skipped_images=tally.skipped_images,
        dropped_labels=tally.dropped_labels,
    )
