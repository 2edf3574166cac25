"""The one entry for every format: tasks in, an export written into a binary sink.

`tasks` is read once, front to back, and may be a generator reading the project page by page;
output goes to `sink` as it is made. Memory stays flat in the number of tasks, apart from small
per-file records (the set of file names given, zipfile's directory entry of each file), so the
same call serves the API's inline answer (a BytesIO) and a job writing to S3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import IO

from prelabel.domain.entities import Project, Task
from prelabel.export_formats.coco import write_coco
from prelabel.export_formats.common import Tally
from prelabel.export_formats.formats import ExportFormat, ExportSummary
from prelabel.export_formats.labelstudio import write_label_studio
from prelabel.export_formats.manifest import Manifest
from prelabel.export_formats.streams import Archive
from prelabel.export_formats.voc import write_voc
from prelabel.export_formats.yolo import write_yolo

ArchiveWriter = Callable[[Project, Iterable[Task], Archive, Manifest], Tally]

_ARCHIVE_WRITERS: dict[ExportFormat, ArchiveWriter] = {
    ExportFormat.YOLO: lambda p, t, a, m: write_yolo(p, t, a, m, flat=False),
    ExportFormat.YOLO_FLAT: lambda p, t, a, m: write_yolo(p, t, a, m, flat=True),
    ExportFormat.VOC: write_voc,
    ExportFormat.LABEL_STUDIO: write_label_studio,
}


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
            tally = _ARCHIVE_WRITERS[fmt](project, tasks, archive, manifest)
            manifest.write(archive, tally)
    return ExportSummary(
        format=fmt,
        project_id=project.ref.project_id,
        images=tally.images,
        annotations=tally.annotations,
        skipped_images=tally.skipped_images,
        dropped_labels=tally.dropped_labels,
    )
