"""Slice records of sliced jobs (models.JobPartModel): read one or all of a phase, sum their
progress, and commit a slice's step with the progress it made in one conditional write."""

from __future__ import annotations

import json

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.models import JobPartModel
from prelabel.domain.slices import SliceState


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _state(item: JobPartModel) -> SliceState:
    return SliceState(
        spec=json.loads(item.spec or "{}"),
        cursor=json.loads(item.cursor or "{}"),
        step=int(item.step or 0),
        finished=bool(item.finished),
        failure=item.failure,
        output=json.loads(item.output or "{}"),
        done=int(item.done or 0),
    )


def progress_action(
    job_id: str, number: tuple[int, int], n: int
) -> tuple[JobPartModel, list[Action]]:
    """What a write that counts `n` for slice `number` of the job adds to the slice's record
    (in that write's own transaction)."""
    item = JobPartModel(JobPartModel.partition(job_id), JobPartModel.slice_key(*number))
    return item, [JobPartModel.done.add(n)]


class SliceRecords:
    def get(self, job_id: str, phase: int, number: int) -> SliceState | None:
        key = JobPartModel.slice_key(phase, number)
        try:
            with storage_errors("read slice"):
                item = JobPartModel.get(JobPartModel.partition(job_id), key, consistent_read=True)
        except DoesNotExist:
            return None
        return _state(item)

    def all(self, job_id: str, phase: int) -> dict[int, SliceState]:
        plan = JobPartModel.plan_key(phase)
        with storage_errors("read slices"):
            items = JobPartModel.query(
                JobPartModel.partition(job_id),
                JobPartModel.part_no.startswith(f"{phase:02d}#"),
                consistent_read=True,
            )
            return {int(i.part_no.split("#")[1]): _state(i) for i in items if i.part_no != plan}

    def done(self, job_id: str, phase: int) -> int:
        """The progress of the phase's slices, summed (their `done` only is read)."""
        with storage_errors("read slice progress"):
            items = JobPartModel.query(
                JobPartModel.partition(job_id),
                JobPartModel.part_no.startswith(f"{phase:02d}#"),
                consistent_read=True,
                attributes_to_get=["done"],
            )
            return sum(int(i.done or 0) for i in items)

    def advance(
        self, job_id: str, number: tuple[int, int], state: SliceState, progress: int
    ) -> bool:
        phase, n = number
        actions: list[Action] = [
            JobPartModel.spec.set(_compact(state.spec)),
            JobPartModel.cursor.set(_compact(state.cursor)),
            JobPartModel.step.set(state.step),
            JobPartModel.finished.set(state.finished),
            JobPartModel.output.set(_compact(state.output)),
        ]
        if progress:
            actions.append(JobPartModel.done.add(progress))
        if state.failure is not None:
            actions.append(JobPartModel.failure.set(state.failure[:2000]))
        # The stored step is the one before this one: a step that ran twice commits once.
        condition: Condition = (
            JobPartModel.step.does_not_exist()
            if state.step <= 1
            else JobPartModel.step == state.step - 1
        )
        item = JobPartModel(JobPartModel.partition(job_id), JobPartModel.slice_key(phase, n))
        try:
            with storage_errors("commit slice step"):
                item.update(actions=actions, condition=condition)
        except UpdateError:
            return False
        return True
