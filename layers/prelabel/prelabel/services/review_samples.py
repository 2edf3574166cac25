"""A review sample, the requests: starting the job that draws it (its steps,
`services.jobs.review_sample_step`, write the file into S3) and the short-lived link to its
file with what each class got."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import Conflict, InvalidInput
from prelabel.domain.jobs import Job, JobKind, JobStatus
from prelabel.export_formats.review_files import ReviewFileFormat
from prelabel.ports.images import ImageLinks
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import TaskRepository
from prelabel.quality.sampling import (
    DEFAULT_BOXES_PER_CLASS,
    MAX_SEED,
    check_boxes_per_class,
)
from prelabel.services.exports import LINK_TTL_SECONDS
from prelabel.services.jobs.service import JobService, new_job


@dataclass(frozen=True, slots=True)
class SampleLink:
    url: str
    expires_in: int
    job: Job
    classes: list[dict[str, Any]]


@dataclass(frozen=True)
class ReviewSampleService:
    projects: ProjectRepository
    tasks: TaskRepository
    jobs: JobService
    links: ImageLinks

    def start(
        self,
        ref: ProjectRef,
        fmt: ReviewFileFormat,
        boxes_per_class: int | None = None,
        seed: int | None = None,
    ) -> Job:
        """A job drawing the sample; the same request while one runs gets that job (without a
        seed, any seed matches: the caller asked for a random one)."""
        self.projects.get(ref)
        boxes = check_boxes_per_class(
            DEFAULT_BOXES_PER_CLASS if boxes_per_class is None else boxes_per_class
        )
        asked = {"format": fmt.value, "boxes_per_class": str(boxes)}
        if seed is not None:
            asked["seed"] = str(seed)
        running = self.jobs.running(ref, JobKind.REVIEW_SAMPLE, asked)
        if running is not None:
            return running
        prelabeled = self.tasks.counts(ref).prelabeled
        if not prelabeled:
            raise Conflict("no task of this project is pre-labeled yet: there is nothing to review")
        params = {**asked, "seed": str(secrets.randbelow(MAX_SEED) if seed is None else seed)}
        return self.jobs.launch(new_job(ref, JobKind.REVIEW_SAMPLE, params, total=prelabeled))

    def link(self, ref: ProjectRef, job_id: str) -> SampleLink | Job:
        """The file's link and the classes' figures once written; the job while it runs."""
        self.projects.get(ref)
        job = self.jobs.get(ref, job_id)
        if job.kind is not JobKind.REVIEW_SAMPLE:
            raise InvalidInput(f"job_id: job {job_id} is not a review sample", field="job_id")
        if job.status is JobStatus.RUNNING:
            return job
        if job.status is JobStatus.FAILED:
            raise Conflict(f"review sample job {job_id} failed: {job.error}; start a new one")
        bucket, key = str(job.result["bucket"]), str(job.result["key"])
        url = self.links.signed_get_url(
            bucket, key, LINK_TTL_SECONDS, download_name=str(job.result["filename"])
        )
        return SampleLink(url, LINK_TTL_SECONDS, job, json.loads(str(job.result["classes"])))
