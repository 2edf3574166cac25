"""Exporting a project's labels, the requests: starting an export job (its step,
`services.jobs.export_step`, writes the file into S3) and the short-lived link to its file."""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import Conflict, InvalidInput
from prelabel.domain.jobs import Job, JobKind, JobStatus
from prelabel.export_formats import ExportFormat
from prelabel.ports.images import ImageLinks
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import TaskRepository
from prelabel.services.jobs.service import JobService, new_job

LINK_TTL_SECONDS = 900


@dataclass(frozen=True, slots=True)
class ExportLink:
    url: str
    expires_in: int
    format: ExportFormat
    job: Job


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
