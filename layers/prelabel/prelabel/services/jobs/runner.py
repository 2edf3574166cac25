"""One step of a job: a bounded slice of its work, from the cursor the last step handed back.

The jobs state machine calls `JobRunner.step` until it answers done, then `JobFinisher.finish`.
A step that fails on storage raises (the state machine retries it with the same cursor, and
every slice is written so that running it twice leaves what running it once does); a step that
cannot go on for a reason the user must hear (a bucket that cannot be listed, a run that
started, a revoked grant) answers done with that reason, and the job ends FAILED with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import DomainError, StorageError
from prelabel.domain.jobs import JobKind, StepOutcome, decode_cursor
from prelabel.services.jobs.context import JobContext, Work
from prelabel.services.jobs.export_step import export_step
from prelabel.services.jobs.import_step import import_step
from prelabel.services.jobs.quality_step import quality_step
from prelabel.services.jobs.reshard_step import reshard_step
from prelabel.services.jobs.review_sample_step import review_sample_step
from prelabel.services.jobs.reviewed_step import reviewed_import_step
from prelabel.services.jobs.task_steps import disconnect_step, move_step, reconnect_step

WORK: dict[JobKind, Work] = {
    JobKind.IMPORT: import_step,
    JobKind.RECONNECT: reconnect_step,
    JobKind.DISCONNECT: disconnect_step,
    JobKind.MOVE: move_step,
    JobKind.EXPORT: export_step,
    JobKind.RESHARD: reshard_step,
    JobKind.REVIEWED_IMPORT: reviewed_import_step,
    JobKind.QUALITY: quality_step,
    JobKind.REVIEW_SAMPLE: review_sample_step,
}


@dataclass(frozen=True)
class JobRunner:
    context: JobContext

    def step(self, ref: ProjectRef, job_id: str, cursor: str) -> StepOutcome:
        job = self.context.jobs.get(ref, job_id)
        if not job.running:
            # Ended meanwhile (a read found its execution stopped): nothing more to do.
            return StepOutcome(True, cursor)
        try:
            return WORK[job.kind](self.context, job, decode_cursor(cursor))
        except StorageError:
            raise
        except DomainError as exc:
            return StepOutcome(True, cursor, failure=exc.message)
