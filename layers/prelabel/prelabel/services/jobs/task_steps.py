"""Slices of the jobs that change many tasks: move all of a state, disconnect, reconnect.

A project's tasks fall into parts (its shards): each part's tasks, indexes and counters are
written apart from the others', so a large job runs one slice per part at the same time; a
small one (under StepLimits.slice_tasks), or a legacy project's, is one slice over all of them.
A slice's steps are bounded (5,000 moves or 3,000 deletions) and go through the same
transactions as the small requests, with the counters, the dataset's `task_count` and the
job's `done` in each: a retried step cannot count anything twice.
"""

from __future__ import annotations

from typing import Any

from prelabel.domain.entities import LabelingState
from prelabel.domain.errors import Conflict
from prelabel.domain.jobs import Job
from prelabel.domain.slices import SliceStep
from prelabel.ports.tasks import IdRange, Move
from prelabel.services.jobs.context import JobContext
from prelabel.services.jobs.import_step import ImportPhase
from prelabel.services.jobs.slices import Phase, Phased, Planned, SliceCall


def part_slices(ctx: JobContext, job: Job) -> list[dict[str, Any]]:
    """One slice per part of the project's tasks, or one over all for a small job."""
    parts = ctx.tasks.parts(job.project)
    if parts == 1 or (job.total or 0) < ctx.limits.slice_tasks:
        return [{"part": None}]
    return [{"part": n} for n in range(parts)]


def _part(call: SliceCall) -> int | None:
    part = call.spec.get("part")
    return None if part is None else int(part)


class MovePhase(Phase):
    """The next ids of the source state after the slice's last one: one pass over the
    by-state index of its part, each id read once, even while the index still lists moved
    tasks. The moves' transactions add to the job's `done`."""

    def plan(self, ctx: JobContext, job: Job) -> Planned:
        return Planned(part_slices(ctx, job))

    def run(self, ctx: JobContext, job: Job, call: SliceCall) -> SliceStep:
        ref = job.project
        source = LabelingState(job.params["from"])
        target = LabelingState(job.params["to"])
        limit = ctx.limits.move_tasks
        span = IdRange(call.cursor.get("after"), limit, _part(call))
        ids = list(ctx.tasks.ids_in_state(ref, source, span))
        ctx.tasks.move(ref, ids, Move(source, target, job.job_id, call.slice))
        after = ids[-1] if ids else call.cursor.get("after")
        return SliceStep({"after": after}, finished=len(ids) < limit)


class DeletePhase(Phase):
    """The dataset's tasks of the slice's part, a bounded number a step; the deletions'
    transactions add to the job's `done`."""

    def plan(self, ctx: JobContext, job: Job) -> Planned:
        return Planned(part_slices(ctx, job))

    def run(self, ctx: JobContext, job: Job, call: SliceCall) -> SliceStep:
        ref = job.project
        dataset_id = job.params["dataset_id"]
        removal = ctx.tasks.delete_dataset_tasks(
            ref, dataset_id, job.job_id, ctx.limits.delete_tasks, _part(call), call.slice
        )
        dataset = ctx.datasets.get(ref, dataset_id)
        if dataset.job_id != job.job_id:
            raise Conflict(f"dataset {dataset_id} is worked on by job {dataset.job_id}")
        return SliceStep({}, finished=not removal.left)


MOVE = Phased((MovePhase(),))
DISCONNECT = Phased((DeletePhase(),))
# The old tasks go first, then the source is imported again (a new generation of ids).
RECONNECT = Phased((DeletePhase(), ImportPhase()))
