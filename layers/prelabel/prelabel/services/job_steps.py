"""One step of a job: a bounded slice of its work, from the cursor the last step handed back.

The jobs state machine calls `JobRunner.step` until it answers done, then `JobFinisher.finish`.
A step that fails on storage raises (the state machine retries it with the same cursor, and
every slice is written so that running it twice leaves what running it once does); a step that
cannot go on for a reason the user must hear (a bucket that cannot be listed, a run that
started, a revoked grant) answers done with that reason, and the job ends FAILED with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import DomainError, StorageError
from prelabel.domain.jobs import Job, JobKind, StepOutcome, decode_cursor
from prelabel.ports.jobs import JobRepository
from prelabel.ports.objects import DatasetObjects, ExportFiles
from prelabel.ports.projects import DatasetRepository, ProjectRepository
from prelabel.ports.tasks import TaskRepository
from prelabel.services.locations import LocationService


@dataclass(frozen=True, slots=True)
class StepLimits:
    """How much one step does. A step of 10 listing pages writes up to 10,000 tasks in ~112
    transactions: seconds, far inside a Lambda's 15 minutes, and 100 steps per million images
    keep an execution far below Step Functions' 25,000 history events."""

    list_pages: int = 10
    page_keys: int = 1000
    manifest_lines: int = 10_000
    move_tasks: int = 5_000
    delete_tasks: int = 3_000
    export_progress_every: int = 5_000


@dataclass
class JobContext:
    projects: ProjectRepository
    datasets: DatasetRepository
    tasks: TaskRepository
    jobs: JobRepository
    locations: LocationService
    objects: DatasetObjects
    exports: ExportFiles
    limits: StepLimits = field(default_factory=StepLimits)


Work = Callable[[JobContext, Job, dict[str, object]], StepOutcome]


@dataclass(frozen=True)
class JobRunner:
    context: JobContext

    def step(self, ref: ProjectRef, job_id: str, cursor: str) -> StepOutcome:
        job = self.context.jobs.get(ref, job_id)
        if not job.running:
            # Ended meanwhile (a read found its execution stopped): nothing more to do.
            return StepOutcome(True, cursor)
        try:
            return _work(job.kind)(self.context, job, decode_cursor(cursor))
        except StorageError:
            raise
        except DomainError as exc:
            return StepOutcome(True, cursor, failure=exc.message)


def _work(kind: JobKind) -> Work:
    from prelabel.services import job_exports, job_imports, job_reshard, job_tasks

    return {
        JobKind.IMPORT: job_imports.import_step,
        JobKind.RECONNECT: job_tasks.reconnect_step,
        JobKind.DISCONNECT: job_tasks.disconnect_step,
        JobKind.MOVE: job_tasks.move_step,
        JobKind.EXPORT: job_exports.export_step,
        JobKind.RESHARD: job_reshard.reshard_step,
    }[kind]
