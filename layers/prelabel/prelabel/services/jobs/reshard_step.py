"""A slice of moving a legacy project's tasks to shards (see services/reshard.py): up to 5,000
tasks a step, each moved with its counts in one transaction; the last step makes the project
sharded. A rerun of a step moves what is left; a rerun of the last one finds it done."""

from __future__ import annotations

from typing import Any

from prelabel.domain.jobs import Job, StepOutcome, encode_cursor
from prelabel.services.jobs.context import JobContext


def reshard_step(ctx: JobContext, job: Job, cursor: dict[str, Any]) -> StepOutcome:
    ref = job.project
    if ctx.tasks.sharding(ref).shards is None:
        removal = ctx.tasks.reshard_slice(ref, job.job_id, ctx.limits.move_tasks)
        if removal.left:
            return StepOutcome(False, encode_cursor({}))
        ctx.tasks.end_resharding(ref, job.job_id)
    # Done (also when a retried last step finds it done): the figure the job's moves counted.
    moved = ctx.jobs.get(ref, job.job_id).done
    ctx.jobs.set_result(ref, job.job_id, {"moved": moved})
    return StepOutcome(True, encode_cursor({}))
