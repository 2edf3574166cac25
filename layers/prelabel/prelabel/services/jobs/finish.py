"""A job's end: its final status, and what it leaves on the dataset it worked on.

Called by the jobs state machine's last step, and by a read that finds a job whose execution
ended without it (stopped from the console, timed out). Running it twice changes nothing more:
the job ends only from RUNNING, the dataset changes only while the job owns it.
"""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.entities import Dataset, DatasetStatus, ProjectRef
from prelabel.domain.errors import NotFound
from prelabel.domain.ids import now_iso
from prelabel.domain.imports import IMAGE_SUFFIXES, ImportReport, ReportBuilder
from prelabel.domain.jobs import Job, JobKind, JobStatus
from prelabel.ports.jobs import JobEnd, JobRepository
from prelabel.ports.projects import DatasetRepository, Settlement

IMPORTS = (JobKind.IMPORT, JobKind.RECONNECT)


@dataclass(frozen=True)
class JobFinisher:
    jobs: JobRepository
    datasets: DatasetRepository

    def finish(self, ref: ProjectRef, job_id: str, failure: str | None) -> Job:
        job = self.jobs.get(ref, job_id)
        if not job.running:
            return job
        if job.kind in IMPORTS:
            self._finish_import(job, failure)
        elif job.kind is JobKind.DISCONNECT:
            self._finish_disconnect(job, failure)
        elif job.kind is JobKind.MOVE:
            self._end(job, failure, {"moved": job.done})
        else:  # an export's step stored its file and summary already
            self._end(job, failure, None)
        return self.jobs.get(ref, job_id)

    def _end(self, job: Job, failure: str | None, result: dict[str, str | int] | None) -> None:
        status = JobStatus.FAILED if failure else JobStatus.SUCCEEDED
        self.jobs.finish(job.project, job.job_id, JobEnd(status, failure, result, now_iso()))

    def _dataset(self, job: Job) -> Dataset | None:
        try:
            return self.datasets.get(job.project, job.params["dataset_id"])
        except NotFound:
            return None

    def _finish_import(self, job: Job, failure: str | None) -> None:
        builder = ReportBuilder()
        for part in self.jobs.slices(job.job_id):
            builder.merge(part)
        report = builder.build()
        dataset = self._dataset(job)
        if failure is None and report.images == 0:
            where = dataset.source if dataset else "the dataset's source"
            failure = f"{where} holds no images ({', '.join(IMAGE_SUFFIXES)})"
        if dataset is not None and dataset.job_id == job.job_id:
            status = DatasetStatus.FAILED if failure else DatasetStatus.READY
            end = Settlement(status, failure=failure, report=report)
            self.datasets.settle(job.project, dataset.dataset_id, job.job_id, end)
        self._end(job, failure, _import_result(report, dataset))

    def _finish_disconnect(self, job: Job, failure: str | None) -> None:
        dataset = self._dataset(job)
        left = dataset.task_count if dataset else 0
        removed = max(0, (job.total or 0) - left)
        if dataset is not None and dataset.job_id == job.job_id:
            if failure:
                end = Settlement(DatasetStatus.FAILED, failure=f"{failure} ({left} tasks left)")
                self.datasets.settle(job.project, dataset.dataset_id, job.job_id, end)
            else:
                self.datasets.remove(job.project, dataset.dataset_id, job.job_id)
        self._end(job, failure, {"removed": removed})


def _import_result(report: ImportReport, dataset: Dataset | None) -> dict[str, str | int]:
    return {
        "tasks": dataset.task_count if dataset else 0,
        "objects": report.objects,
        "images": report.images,
        "skipped": report.skipped_total,
    }
