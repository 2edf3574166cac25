"""A small export job's one step: the whole export streamed into a multipart upload (a large
one is written in slices: export_slices.py).

Memory stays flat (tasks are read a page at a time, each page written before the next is
read, the writer spools what comes last to /tmp, the upload holds one 8 MiB part); the time
grows with the project, about a minute per 100,000 tasks (benchmarks/scale.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from prelabel.domain.entities import ProjectRef, Task
from prelabel.domain.jobs import Job, ProgressUnit, StepOutcome, encode_cursor
from prelabel.domain.locations import OrgLocations, is_readable
from prelabel.export_formats import ExportFormat, ExportSummary, write_export
from prelabel.ports.jobs import Progress
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import TaskFilter, TaskRepository
from prelabel.services.jobs.context import JobContext

EXPORT_PAGE_SIZE = 500
# Export files live under this top-level folder of the data bucket, which no organization id
# can name (domain.locations.RESERVED_ORG_IDS), then per organization and project.
EXPORTS_FOLDER = "exports"


def export_key(ref: ProjectRef, job_id: str, filename: str) -> str:
    return f"{EXPORTS_FOLDER}/{ref.org_id}/{ref.project_id}/{job_id}/{filename}"


def export_step(ctx: JobContext, job: Job, cursor: dict[str, Any]) -> StepOutcome:
    ref = job.project
    fmt = ExportFormat(job.params["format"])
    filename = fmt.filename(ref.project_id)
    key = export_key(ref, job.job_id, filename)
    locations = ctx.locations.locations(ref.org_id)

    def progress(read: int) -> None:
        ctx.jobs.set_progress(ref, job.job_id, Progress(read, job.total, ProgressUnit.TASKS))

    with ctx.exports.open(key, fmt.media_type) as sink:
        summary = ExportWriter(ctx.projects, ctx.tasks).write(
            ref,
            fmt,
            sink,
            datetime.now(UTC).isoformat(timespec="seconds"),
            locations=locations,
            progress=progress,
            progress_every=ctx.limits.export_progress_every,
        )
    ctx.jobs.set_progress(ref, job.job_id, Progress(job.total or 0, job.total, ProgressUnit.TASKS))
    ctx.jobs.set_result(ref, job.job_id, export_result(ctx, key, summary))
    return StepOutcome(True, encode_cursor(cursor))


def export_result(ctx: JobContext, key: str, summary: ExportSummary) -> dict[str, str | int]:
    """What an export job's item keeps: where its file is, and what is in it."""
    return {
        "bucket": ctx.exports.bucket,
        "key": key,
        "filename": summary.filename,
        "format": summary.format.value,
        "images": summary.images,
        "annotations": summary.annotations,
        "skipped_images": summary.skipped_images,
        "dropped_labels": summary.dropped_labels,
    }


def iter_tasks(
    tasks: TaskRepository, ref: ProjectRef, page_size: int | None = None
) -> Iterator[Task]:
    """Every task of the project, a page at a time."""
    cursor: str | None = None
    while True:
        page = tasks.list_tasks(ref, TaskFilter(), page_size or EXPORT_PAGE_SIZE, cursor)
        yield from page.tasks
        cursor = page.cursor
        if cursor is None:
            return


@dataclass(frozen=True)
class ExportWriter:
    """Writes an export into a sink; the export job's step runs it."""

    projects: ProjectRepository
    tasks: TaskRepository

    def write(
        self,
        ref: ProjectRef,
        fmt: ExportFormat,
        sink: IO[bytes],
        created_at: str,
        *,
        locations: OrgLocations,
        progress: Callable[[int], None] | None = None,
        progress_every: int = 5_000,
    ) -> ExportSummary:
        """NotFound for another organization's project, before any task is read or byte
        written.

        Tasks whose image lies outside the organization's data locations (a revoked grant, a
        key that was never the organization's) are left out: an export never names such an
        image. `progress` hears how many tasks were read, every `progress_every` of them.
        """
        project = self.projects.get(ref)

        def readable() -> Iterator[Task]:
            for n, task in enumerate(iter_tasks(self.tasks, ref), start=1):
                if progress is not None and n % progress_every == 0:
                    progress(n)
                if is_readable(locations, task.bucket, task.image_key):
                    yield task

        return write_export(project, readable(), fmt, sink, created_at)
