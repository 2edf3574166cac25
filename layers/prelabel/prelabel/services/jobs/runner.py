"""One step of a job: a bounded part of its work, from the cursor the last step handed back.

The jobs state machine calls `JobRunner.step` until it answers done, then `JobFinisher.finish`.
A step that fails on storage raises (the state machine retries it with the same cursor, and
every step is written so that running it twice leaves what running it once does); a step that
cannot go on for a reason the user must hear (a bucket that cannot be listed, a run that
started, a revoked grant) answers done with that reason, and the job ends FAILED with it.

A kind's WORK is either a function doing one bounded step (the state machine loops on it), or a
`slices.Phased`, whose steps plan slices that a Distributed Map runs at the same time
(`slice_step`, a bounded step of one slice at a time), then merge them. An execution whose
history nears Step Functions' quota hands its cursor to a fresh execution (continue-as-new),
and the job's item then names that one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import DomainError, StorageError
from prelabel.domain.jobs import Job, JobKind, decode_cursor
from prelabel.domain.slices import EVENTS_PER_MAP, SlicePlan, history_events
from prelabel.ports.orchestration import Orchestrator
from prelabel.services.jobs.context import JobContext, Work
from prelabel.services.jobs.export_slices import EXPORT
from prelabel.services.jobs.import_step import IMPORT
from prelabel.services.jobs.quality_step import quality_step
from prelabel.services.jobs.reshard_step import reshard_step
from prelabel.services.jobs.review_sample_step import review_sample_step
from prelabel.services.jobs.reviewed_step import reviewed_import_step
from prelabel.services.jobs.service import execution_input
from prelabel.services.jobs.slices import Phased
from prelabel.services.jobs.task_steps import DISCONNECT, MOVE, RECONNECT

WORK: dict[JobKind, Work] = {
    JobKind.IMPORT: IMPORT,
    JobKind.RECONNECT: RECONNECT,
    JobKind.DISCONNECT: DISCONNECT,
    JobKind.MOVE: MOVE,
    JobKind.EXPORT: EXPORT,
    JobKind.RESHARD: reshard_step,
    JobKind.REVIEWED_IMPORT: reviewed_import_step,
    JobKind.QUALITY: quality_step,
    JobKind.REVIEW_SAMPLE: review_sample_step,
}


@dataclass(frozen=True, slots=True)
class StepAnswer:
    """What a job's step answers the state machine: done (and why it failed), the cursor of
    the next step, the slices to run first (`plan`), whether a fresh execution took over, and
    the history events the execution has so far."""

    done: bool
    cursor: str
    failure: str | None = None
    plan: SlicePlan | None = None
    handed_over: bool = False
    events: int = 0


@dataclass(frozen=True, slots=True)
class SliceAnswer:
    """What a slice's step answers its execution: whether it ends (the slice finished, or its
    execution's time or history ran out: the next round goes on from the slice's cursor), its
    history events, and when its first step ran (epoch seconds)."""

    done: bool
    events: int
    since: float


@dataclass(frozen=True, slots=True)
class Execution:
    """The execution a step runs in, as the state machine tells it."""

    name: str = ""
    events: int = 0
    retries: int = 0


def next_execution_name(job_id: str, current: str) -> str:
    """`<job>-1`, `<job>-2`, ...: each execution of a job named after it."""
    tail = current.removeprefix(f"{job_id}-")
    return f"{job_id}-{int(tail) + 1 if tail != current and tail.isdigit() else 1}"


@dataclass(frozen=True)
class JobRunner:
    context: JobContext
    # Starts the fresh execution of a job whose history is near the quota.
    orchestrator: Orchestrator | None = None

    def step(
        self, ref: ProjectRef, job_id: str, cursor: str, at: Execution | None = None
    ) -> StepAnswer:
        at = at or Execution()
        events = history_events(at.events, at.retries)
        job = self.context.jobs.get(ref, job_id)
        if not job.running:
            # Ended meanwhile (a read found its execution stopped): nothing more to do.
            return StepAnswer(True, cursor, events=events)
        if self._near_the_quota(events, at):
            # This step and what follows run in a fresh execution, from the same cursor.
            return self._hand_over(job, cursor, at.name)
        try:
            outcome = WORK[job.kind](self.context, job, decode_cursor(cursor))
        except StorageError:
            raise
        except DomainError as exc:
            return StepAnswer(True, cursor, failure=exc.message, events=events)
        if outcome.slices is not None:
            limits = self.context.limits
            rnd = outcome.slices
            plan = self.context.plans.plan(job, rnd.name, list(rnd.items), limits.slices_at_once)
            return StepAnswer(False, outcome.cursor, plan=plan, events=events + EVENTS_PER_MAP)
        return StepAnswer(outcome.done, outcome.cursor, outcome.failure, events=events)

    def _near_the_quota(self, events: int, at: Execution) -> bool:
        return bool(self.orchestrator and at.name and events >= self.context.limits.history_events)

    def _hand_over(self, job: Job, cursor: str, execution: str) -> StepAnswer:
        """Continue as new: a fresh execution goes on from `cursor`, and the job's item names
        it (reads and stops then find it) before this one ends. A retry starts the same one
        again (same name and input), which Step Functions answers with the same execution."""
        assert self.orchestrator is not None
        name = next_execution_name(job.job_id, execution)
        arn = self.orchestrator.start(name, execution_input(job, cursor))
        self.context.jobs.set_execution(job.project, job.job_id, arn)
        return StepAnswer(False, cursor, handed_over=True)

    def slice_step(
        self, ref: ProjectRef, job_id: str, where: tuple[str, str], at: Execution, since: float
    ) -> SliceAnswer:
        """One step of the slice the Map handed over (the plan object at `where`: bucket,
        key); `since`: when the slice's first step in this execution ran (0: this is it)."""
        since = since or time.time()
        events = history_events(at.events, at.retries)
        job = self.context.jobs.get(ref, job_id)
        if not job.running:
            return SliceAnswer(True, events, since)
        work = WORK[job.kind]
        if not isinstance(work, Phased):
            raise TypeError(f"jobs of kind {job.kind.value} are not sliced")
        state = work.run_slice(self.context, job, self.context.plans.read(*where))
        limits = self.context.limits
        spent = events >= limits.history_events or time.time() - since >= limits.slice_seconds
        return SliceAnswer(state.finished or spent, events, since)
