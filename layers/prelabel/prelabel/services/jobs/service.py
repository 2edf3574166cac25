"""Starting jobs and reading them: what the API does with the jobs state machine.

A request that starts a job writes its item and starts the execution, nothing more, so it
answers within a fraction of a second at any size. A read of a running job whose execution has
ended without its last step (a stop from the console, a timeout) ends it there and then.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import NotFound, StorageError
from prelabel.domain.ids import new_id, now_iso
from prelabel.domain.jobs import Job, JobKind, JobStatus, ProgressUnit
from prelabel.ports.jobs import JobRepository
from prelabel.ports.orchestration import ExecutionGone, Orchestrator
from prelabel.services.jobs.finish import JobFinisher

ENDED_ELSEWHERE = {"FAILED", "TIMED_OUT", "ABORTED"}
# How far back a repeated request looks for the same job still running.
REPEAT_WINDOW = 25
MAX_LISTED = 100


def execution_input(job: Job, cursor: str = "") -> dict[str, object]:
    """What an execution of the jobs state machine starts with: the job, and the step to begin
    with (a fresh job's first, or a continued job's next)."""
    ref = job.project
    return {
        "job": {"orgId": ref.org_id, "projectId": ref.project_id, "jobId": job.job_id},
        "step": {
            "done": False,
            "cursor": cursor,
            "failure": None,
            "plan": None,
            "handedOver": False,
            "events": 0,
        },
    }


def new_job(
    ref: ProjectRef,
    kind: JobKind,
    params: Mapping[str, str],
    *,
    total: int | None = None,
    unit: ProgressUnit = ProgressUnit.TASKS,
) -> Job:
    return Job(
        project=ref,
        job_id=new_id("job"),
        kind=kind,
        status=JobStatus.RUNNING,
        created_at=now_iso(),
        params=dict(params),
        total=total,
        unit=unit,
    )


@dataclass(frozen=True)
class JobService:
    jobs: JobRepository
    orchestrator: Orchestrator
    finisher: JobFinisher

    def create(self, job: Job) -> Job:
        """Store the job's item; `start` launches it (a dataset is claimed in between)."""
        self.jobs.create(job)
        return job

    def start(self, job: Job) -> Job:
        ref = job.project
        try:
            arn = self.orchestrator.start(job.job_id, execution_input(job))
        except StorageError:
            self.finisher.finish(ref, job.job_id, "the job's workflow did not start; try again")
            raise
        self.jobs.set_execution(ref, job.job_id, arn)
        return dataclasses.replace(job, execution_arn=arn)

    def launch(self, job: Job) -> Job:
        return self.start(self.create(job))

    def fail(self, job: Job, reason: str) -> Job:
        """End a job that will not run (its dataset was taken meanwhile, or it is cancelled)."""
        if job.execution_arn:
            self.orchestrator.stop(job.execution_arn, reason)
        return self.finisher.finish(job.project, job.job_id, reason)

    def get(self, ref: ProjectRef, job_id: str) -> Job:
        return self.refresh(self.jobs.get(ref, job_id))

    def find(self, ref: ProjectRef, job_id: str | None) -> Job | None:
        if job_id is None:
            return None
        try:
            return self.get(ref, job_id)
        except NotFound:
            return None

    def refresh(self, job: Job) -> Job:
        if not job.running or not job.execution_arn:
            return job
        try:
            state = self.orchestrator.status(job.execution_arn)
        except ExecutionGone:
            # It lived in a local stack that has stopped since: nothing will finish it.
            return self.finisher.finish(
                job.project, job.job_id, "the job's workflow is gone; start it again"
            )
        if state in ENDED_ELSEWHERE:
            return self.finisher.finish(
                job.project, job.job_id, f"the job's workflow ended {state}"
            )
        return job

    def recent(self, ref: ProjectRef, limit: int) -> list[Job]:
        return self.jobs.recent(ref, min(limit, MAX_LISTED))

    def running(self, ref: ProjectRef, kind: JobKind, params: Mapping[str, str]) -> Job | None:
        """The project's running job of `kind` with these params (a repeated request)."""
        for job in self.jobs.recent(ref, REPEAT_WINDOW):
            if (
                job.kind is kind
                and job.running
                and all(job.params.get(k) == v for k, v in params.items())
            ):
                refreshed = self.refresh(job)
                if refreshed.running:
                    return refreshed
        return None
