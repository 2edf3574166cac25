"""Exporting a project's labels: tasks read page by page, each page written before the next
is read, into a file in S3 that a job writes; the user gets a short-lived link to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from prelabel.domain.entities import ProjectRef, Task
from prelabel.domain.errors import Conflict, InvalidInput
from prelabel.domain.jobs import Job, JobKind, JobStatus
from prelabel.domain.locations import OrgLocations, is_readable
from prelabel.exports import ExportFormat, ExportSummary, write_export
from prelabel.ports.images import ImageLinks
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import TaskFilter, TaskRepository
from prelabel.services.jobs import JobService, new_job

EXPORT_PAGE_SIZE = 500
LINK_TTL_SECONDS = 900
# Export files live under this top-level folder of the data bucket, which no organization id
# can name (domain.locations.RESERVED_ORG_IDS), then per organization and project.
EXPORTS_FOLDER = "exports"


def export_key(ref: ProjectRef, job_id: str, filename: str) -> str:
    return f"{EXPORTS_FOLDER}/{ref.org_id}/{ref.project_id}/{job_id}/{filename}"


@dataclass(frozen=True, slots=True)
class ExportLink:
    url: str
    expires_in: int
    format: ExportFormat
    job: Job


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
class ExportService:
    projects: ProjectRepository
    tasks: TaskRepository
    jobs: JobService
    links: ImageLinks

    def start(self, ref: ProjectRef, fmt: ExportFormat) -> Job:
        """A job writing the export file; the same request while one runs gets that job."""
        self.projects.get(ref)
        params = {"format": fmt.value}
        running = self.jobs.running(ref, JobKind.EXPORT, params)
        if running is not None:
            return running
        total = self.tasks.counts(ref).total
        return self.jobs.launch(new_job(ref, JobKind.EXPORT, params, total=total))

    def link(self, ref: ProjectRef, job_id: str, fmt: ExportFormat) -> ExportLink | Job:
        """The file's link once the job has written it; the job itself while it runs."""
        self.projects.get(ref)
        job = self.jobs.get(ref, job_id)
        if job.kind is not JobKind.EXPORT or job.params.get("format") != fmt.value:
            raise InvalidInput(
                f"job_id: job {job_id} is not an export to {fmt.value}", field="job_id"
            )
        if job.status is JobStatus.RUNNING:
            return job
        if job.status is JobStatus.FAILED:
            raise Conflict(f"export job {job_id} failed: {job.error}; start a new export")
        bucket, key = str(job.result["bucket"]), str(job.result["key"])
        filename = str(job.result.get("filename", key.rsplit("/", 1)[-1]))
        url = self.links.signed_get_url(bucket, key, LINK_TTL_SECONDS, download_name=filename)
        return ExportLink(url, LINK_TTL_SECONDS, fmt, job)


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
