"""Slices of the jobs that change many tasks: move all of a state, disconnect, reconnect.

Each slice is bounded (5,000 moves or 3,000 deletions) and goes through the same transactions
as the small requests, with the counters in each; the counts a job shows come from those
writes (the job's own progress item, the dataset's `task_count`), so a retried slice cannot
count anything twice.
"""

from __future__ import annotations

from typing import Any

from prelabel.domain.entities import LabelingState
from prelabel.domain.errors import Conflict
from prelabel.domain.jobs import Job, ProgressUnit, StepOutcome, encode_cursor
from prelabel.ports.jobs import Progress
from prelabel.ports.tasks import IdRange, Move
from prelabel.services.jobs.context import JobContext
from prelabel.services.jobs.import_step import import_step


def move_step(ctx: JobContext, job: Job, cursor: dict[str, Any]) -> StepOutcome:
    """The next ids of the source state after the cursor's last one: one pass over the
    by-state index, each id read once, even while the index still lists moved tasks."""
    ref = job.project
    source = LabelingState(job.params["from"])
    target = LabelingState(job.params["to"])
    limit = ctx.limits.move_tasks
    ids = list(ctx.tasks.ids_in_state(ref, source, IdRange(cursor.get("after"), limit)))
    ctx.tasks.move(ref, ids, Move(source, target, job.job_id))
    done = len(ids) < limit
    return StepOutcome(done, encode_cursor({"after": ids[-1] if ids else cursor.get("after")}))


def _remove_slice(ctx: JobContext, job: Job) -> bool:
    """Delete a slice of the dataset's tasks; True when none is left."""
    ref = job.project
    dataset_id = job.params["dataset_id"]
    removal = ctx.tasks.delete_dataset_tasks(ref, dataset_id, job.job_id, ctx.limits.delete_tasks)
    dataset = ctx.datasets.get(ref, dataset_id)
    if dataset.job_id != job.job_id:
        raise Conflict(f"dataset {dataset_id} is worked on by job {dataset.job_id}")
    removed = max(0, (job.total or 0) - dataset.task_count)
    ctx.jobs.set_progress(ref, job.job_id, Progress(removed, job.total, ProgressUnit.TASKS))
    return not removal.left


def disconnect_step(ctx: JobContext, job: Job, cursor: dict[str, Any]) -> StepOutcome:
    return StepOutcome(_remove_slice(ctx, job), encode_cursor(cursor))


def reconnect_step(ctx: JobContext, job: Job, cursor: dict[str, Any]) -> StepOutcome:
    """The old tasks go first, then the source is imported again (a new generation of ids)."""
    if cursor.get("phase", "delete") == "delete":
        emptied = _remove_slice(ctx, job)
        return StepOutcome(False, encode_cursor({"phase": "import" if emptied else "delete"}))
    return import_step(ctx, job, cursor)
