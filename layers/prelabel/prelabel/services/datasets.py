"""Datasets of a project: connecting (an import job), disconnecting and reconnecting (jobs too).

A request checks what it can from the request alone (the project, the location, a run that is
active), writes the dataset and the job, and starts the job; the job does the S3 listing and
the task writes a slice at a time. A job owns its dataset from its claim to its end, so a
second request for the same work answers with the running job, and one that would clash
waits its turn (409).
"""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.dataset_sources import DatasetSource, require_source, source_of
from prelabel.domain.entities import Dataset, DatasetStatus, ProjectRef
from prelabel.domain.errors import Conflict
from prelabel.domain.ids import new_id, now_iso
from prelabel.domain.jobs import Job, JobKind, ProgressUnit
from prelabel.domain.locations import OrgLocations
from prelabel.ports.projects import Claim, DatasetRepository, ProjectRepository
from prelabel.services.jobs.service import JobService, new_job

RUN_ACTIVE = "datasets cannot be {what} while a pre-labeling run is active; stop the run first"


@dataclass(frozen=True)
class DatasetService:
    projects: ProjectRepository
    datasets: DatasetRepository
    jobs: JobService

    def connect(
        self, locations: OrgLocations, ref: ProjectRef, source: DatasetSource
    ) -> tuple[Dataset, Job]:
        """The dataset in IMPORTING and its import job, started."""
        self.projects.get(ref)
        require_source(_own(locations, ref), source)
        for existing in self.datasets.list_datasets(ref):
            if source.same_as(existing):
                job = self.jobs.find(ref, existing.job_id)
                if existing.status is DatasetStatus.IMPORTING and job and job.running:
                    return existing, job  # the same request again: the same import
                raise Conflict(f"{existing.source} is already connected as {existing.dataset_id}")
        unit = ProgressUnit.BYTES if source.manifest_key else ProgressUnit.OBJECTS
        dataset_id = new_id("ds")
        job = self.jobs.create(new_job(ref, JobKind.IMPORT, {"dataset_id": dataset_id}, unit=unit))
        dataset = Dataset(
            ref,
            dataset_id,
            source.bucket,
            source.prefix if source.manifest_key is None else None,
            0,
            now_iso(),
            status=DatasetStatus.IMPORTING,
            manifest_key=source.manifest_key,
            manifest_format=source.manifest_format,
            job_id=job.job_id,
        )
        self.datasets.create(dataset)
        return dataset, self.jobs.start(job)

    def get(self, ref: ProjectRef, dataset_id: str) -> tuple[Dataset, Job | None]:
        """The dataset and the job working (or that last worked) on it."""
        self.projects.get(ref)
        dataset = self.datasets.get(ref, dataset_id)
        before = self.jobs.find(ref, dataset.job_id) if dataset.job_id else None
        if before is not None and dataset.status.busy and not before.running:
            dataset = self.datasets.get(ref, dataset_id)  # the read ended it just now
        return dataset, before

    def list(self, ref: ProjectRef) -> list[Dataset]:
        self.projects.get(ref)
        return self.datasets.list_datasets(ref)

    def disconnect(self, ref: ProjectRef, dataset_id: str) -> Job:
        """Its tasks go (pre-labels and reviewed labels with them), then the dataset. An import
        still running is stopped first."""
        project = self.projects.get(ref)
        dataset = self.datasets.get(ref, dataset_id)
        current = self.jobs.find(ref, dataset.job_id)
        if current and current.running and current.kind is JobKind.DISCONNECT:
            return current
        if project.active_run_id:
            raise Conflict(RUN_ACTIVE.format(what="disconnected"))
        if current and current.running:
            self.jobs.fail(current, "stopped: the dataset is being disconnected")
        job = new_job(ref, JobKind.DISCONNECT, {"dataset_id": dataset_id}, total=dataset.task_count)
        return self._claim_and_start(dataset, job, DatasetStatus.REMOVING)

    def reconnect(self, locations: OrgLocations, ref: ProjectRef, dataset_id: str) -> Job:
        """Fresh tasks: the old ones go (pre-labels and reviewed labels with them), the source
        is imported again under the next generation. A source outside the locations now (a
        revoked grant) is refused before anything is deleted."""
        project = self.projects.get(ref)
        dataset = self.datasets.get(ref, dataset_id)
        current = self.jobs.find(ref, dataset.job_id)
        if current and current.running:
            if current.kind is JobKind.RECONNECT:
                return current
            raise Conflict(
                f"dataset {dataset_id} is busy with job {current.job_id} ({current.kind.value});"
                " reconnect once it has ended"
            )
        if project.active_run_id:
            raise Conflict(RUN_ACTIVE.format(what="reconnected"))
        require_source(_own(locations, ref), source_of(dataset))
        generation = dataset.generation + 1
        job = new_job(
            ref,
            JobKind.RECONNECT,
            {"dataset_id": dataset_id, "generation": str(generation)},
            total=dataset.task_count,
        )
        return self._claim_and_start(dataset, job, DatasetStatus.IMPORTING, generation)

    def _claim_and_start(
        self,
        dataset: Dataset,
        job: Job,
        status: DatasetStatus,
        generation: int | None = None,
    ) -> Job:
        self.jobs.create(job)
        claimed = self.datasets.claim(
            dataset.project,
            dataset.dataset_id,
            Claim(job.job_id, status, expected_job_id=dataset.job_id, generation=generation),
        )
        if not claimed:
            self.jobs.fail(job, "another request took the dataset first")
            raise Conflict(f"dataset {dataset.dataset_id} changed meanwhile; try again")
        return self.jobs.start(job)


def _own(locations: OrgLocations, ref: ProjectRef) -> OrgLocations:
    if locations.org_id != ref.org_id:
        raise ValueError("the locations of another organization were passed for this project")
    return locations
