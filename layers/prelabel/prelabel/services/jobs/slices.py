"""Sliced jobs: a kind whose work runs as slices at the same time (a Distributed Map).

A kind opts in by registering a `Phased` in runner.WORK instead of a one-step-loop function.
Its phases run one after the other. The job's step plans a phase into slices (`Phase.plan`:
specs stored once, so a retried plan keeps the slices it chose); the Map runs every slice, a
bounded step at a time (`Phase.run`: the same idempotent slice code a loop step is, from the
slice's own cursor); the job's next step merges them (`Phase.merge`) and plans the next phase.
A slice that could not go on for a reason the user must hear records it, and the job ends
FAILED with it; a slice handed back unfinished (its execution's time or history ran out) is
planned again in the next round, from its cursor.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prelabel.domain.errors import DomainError, StorageError
from prelabel.domain.jobs import Job, SliceRound, StepOutcome, decode_cursor, encode_cursor
from prelabel.domain.slices import MAX_SLICES, SliceItem, SliceState, SliceStep
from prelabel.ports.jobs import Progress
from prelabel.services.jobs.context import JobContext, Work


@dataclass(frozen=True, slots=True)
class Planned:
    """A phase's slices (specs: small JSON objects), and the job's progress as it starts."""

    specs: list[dict[str, Any]]
    progress: Progress | None = None


@dataclass(frozen=True, slots=True)
class SliceCall:
    """What one step of a slice gets: which slice it is (its phase and number), its spec, the
    step's number and the cursor the slice's last step left."""

    phase: int
    number: int
    spec: dict[str, Any]
    step: int
    cursor: dict[str, Any]

    @property
    def slice(self) -> tuple[int, int]:
        return (self.phase, self.number)


class Phase(ABC):
    @abstractmethod
    def plan(self, ctx: JobContext, job: Job) -> Planned:
        """The phase's slices (at most domain.slices.MAX_SLICES; [] when there is no work)."""

    @abstractmethod
    def run(self, ctx: JobContext, job: Job, call: SliceCall) -> SliceStep:
        """One bounded step of one slice; DomainError when the job cannot go on."""

    def merge(self, ctx: JobContext, job: Job, states: dict[int, SliceState]) -> None:  # noqa: B027
        """Once every slice has finished (nothing to do by default)."""


def _round(number: int, rnd: int, specs: list[dict[str, Any]], which: Iterable[int]) -> StepOutcome:
    items = tuple(SliceItem(number, n, specs[n]) for n in which)
    cursor = encode_cursor({"phase": number, "round": rnd})
    return StepOutcome(False, cursor, slices=SliceRound(f"p{number:02d}-r{rnd:04d}", items))


@dataclass(frozen=True)
class Phased:
    """A job kind's phases. `alone`, when given, does the whole job in one-step loops instead
    where `alone_when` says the job is small (an export of a few thousand tasks)."""

    phases: tuple[Phase, ...]
    alone: Work | None = None
    alone_when: Callable[[JobContext, Job], bool] | None = None

    def __call__(self, ctx: JobContext, job: Job, cursor: dict[str, Any]) -> StepOutcome:
        if self.alone is not None and ("alone" in cursor or self._small(ctx, job, cursor)):
            outcome = self.alone(ctx, job, dict(cursor.get("alone", {})))
            inner = decode_cursor(outcome.cursor)
            return dataclasses.replace(outcome, cursor=encode_cursor({"alone": inner}))
        number = int(cursor.get("phase", 0))
        if "round" in cursor:
            return self._after(ctx, job, number, int(cursor["round"]))
        return self._plan(ctx, job, number)

    def _small(self, ctx: JobContext, job: Job, cursor: dict[str, Any]) -> bool:
        return not cursor and self.alone_when is not None and self.alone_when(ctx, job)

    def _plan(self, ctx: JobContext, job: Job, number: int) -> StepOutcome:
        while number < len(self.phases):
            phase = self.phases[number]
            planned = phase.plan(ctx, job)
            if len(planned.specs) > MAX_SLICES:
                raise ValueError(f"{len(planned.specs)} slices; at most {MAX_SLICES}")
            specs = ctx.jobs.save_plan(job.project, job.job_id, number, planned.specs)
            if planned.progress is not None:
                ctx.jobs.set_progress(job.project, job.job_id, planned.progress)
            if specs:
                return _round(number, 0, specs, range(len(specs)))
            phase.merge(ctx, job, {})
            number += 1
        return StepOutcome(True, encode_cursor({"phase": number}))

    def _after(self, ctx: JobContext, job: Job, number: int, rnd: int) -> StepOutcome:
        """The round has run: a slice's failure ends the job; slices handed back unfinished
        (or never started) run in another round; once all have finished, the merge."""
        specs = ctx.jobs.plan(job.job_id, number)
        states = ctx.jobs.slice_states(job.job_id, number)
        failure = next((s.failure for _, s in sorted(states.items()) if s.failure), None)
        if failure is not None:
            return StepOutcome(True, encode_cursor({"phase": number}), failure=failure)
        pending = [n for n in range(len(specs)) if not (n in states and states[n].finished)]
        if pending:
            return _round(number, rnd + 1, specs, pending)
        self.phases[number].merge(ctx, job, states)
        return self._plan(ctx, job, number + 1)

    def run_slice(self, ctx: JobContext, job: Job, item: SliceItem) -> SliceState:
        """One step of the slice, from its record's cursor, committed with its progress once: a
        step that ran twice (a retry after its commit) finds the record moved on and commits
        nothing more."""
        state = ctx.jobs.slice_state(job.job_id, item.phase, item.number)
        state = state or SliceState(item.spec)
        if state.finished:
            return state
        call = SliceCall(item.phase, item.number, item.spec, state.step, dict(state.cursor))
        progress = 0
        try:
            step = self.phases[item.phase].run(ctx, job, call)
            progress = step.progress
            after = SliceState(
                item.spec, step.cursor, state.step + 1, step.finished, None, step.output
            )
        except StorageError:
            raise
        except DomainError as exc:
            after = SliceState(item.spec, state.cursor, state.step + 1, True, exc.message)
        where = (item.phase, item.number)
        if not ctx.jobs.advance_slice(job.project, job.job_id, where, after, progress):
            return ctx.jobs.slice_state(job.job_id, item.phase, item.number) or after
        return after
