"""Jobs on DynamoDB: one item per job in the project's partition; import step reports, and the
plans and slice records of sliced jobs, apart (each in a partition of the job's own)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from prelabel.adapters.dynamodb.errors import read_item, storage_errors
from prelabel.adapters.dynamodb.job_parts import SliceRecords
from prelabel.adapters.dynamodb.keys import project_ref
from prelabel.adapters.dynamodb.models import JobModel, JobPartModel, JobSliceModel
from prelabel.adapters.dynamodb.reports import report_from_json, report_to_json
from prelabel.domain.entities import ProjectRef
from prelabel.domain.imports import ImportReport
from prelabel.domain.jobs import Job, JobKind, JobStatus, ProgressUnit
from prelabel.domain.slices import SliceState
from prelabel.ports.jobs import JobEnd, JobRepository, Progress


def _to_domain(item: JobModel, sliced_done: int = 0) -> Job:
    return Job(
        project=project_ref(item.project_key),
        job_id=item.job_id,
        kind=JobKind(item.kind),
        status=JobStatus(item.status),
        created_at=item.created_at,
        params={str(k): str(v) for k, v in json.loads(item.params or "{}").items()},
        done=int(item.done or 0) + sliced_done,
        total=None if item.total is None else int(item.total),
        unit=ProgressUnit(item.unit or ProgressUnit.TASKS.value),
        result=dict(json.loads(item.result)) if item.result else {},
        error=item.error,
        finished_at=item.finished_at,
        execution_arn=item.execution_arn,
    )


def _json(values: Mapping[str, Any]) -> str:
    return json.dumps(dict(values), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class DynamoJobRepository(JobRepository):
    def __init__(self) -> None:
        self._records = SliceRecords()

    def create(self, job: Job) -> None:
        with storage_errors("create job"):
            JobModel(
                job.project.key,
                job.job_id,
                kind=job.kind.value,
                status=job.status.value,
                params=_json(job.params),
                done=job.done,
                total=job.total,
                unit=job.unit.value,
                created_at=job.created_at,
            ).save(condition=JobModel.job_id.does_not_exist())

    def _job(self, item: JobModel) -> Job:
        """The job, with the progress of its current phase's slices when it is sliced."""
        if item.phase is None:
            return _to_domain(item)
        return _to_domain(item, self._records.done(item.job_id, int(item.phase)))

    def get(self, ref: ProjectRef, job_id: str) -> Job:
        missing = f"job {job_id!r} not found"
        return self._job(read_item(JobModel, ref.key, job_id, what="read job", missing=missing))

    def recent(self, ref: ProjectRef, limit: int) -> list[Job]:
        with storage_errors("list jobs"):
            items = JobModel.query(ref.key, scan_index_forward=False, limit=limit)
            return [self._job(i) for i in items]

    def _update(self, ref: ProjectRef, job_id: str, actions: list[Action], what: str) -> None:
        with storage_errors(what):
            JobModel(ref.key, job_id).update(actions=actions, condition=JobModel.job_id.exists())

    def set_execution(self, ref: ProjectRef, job_id: str, execution_arn: str) -> None:
        self._update(ref, job_id, [JobModel.execution_arn.set(execution_arn)], "save job")

    def set_progress(self, ref: ProjectRef, job_id: str, progress: Progress) -> None:
        actions: list[Action] = [JobModel.done.set(progress.done)]
        if progress.total is not None:
            actions.append(JobModel.total.set(progress.total))
        if progress.unit is not None:
            actions.append(JobModel.unit.set(progress.unit.value))
        self._update(ref, job_id, actions, "save job progress")

    def set_result(self, ref: ProjectRef, job_id: str, result: Mapping[str, Any]) -> None:
        self._update(ref, job_id, [JobModel.result.set(_json(result))], "save job result")

    def finish(self, ref: ProjectRef, job_id: str, end: JobEnd) -> bool:
        """The job's slices' progress is folded into its `done` as it ends."""
        actions: list[Action] = [
            JobModel.status.set(end.status.value),
            JobModel.finished_at.set(end.finished_at),
        ]
        item = read_item(JobModel, ref.key, job_id, what="read job", missing=f"job {job_id!r}")
        if item.phase is not None:
            done = self._job(item).done
            actions += [JobModel.done.set(done), JobModel.phase.remove()]
        if end.error is not None:
            actions.append(JobModel.error.set(end.error[:2000]))
        if end.result is not None:
            actions.append(JobModel.result.set(_json(end.result)))
        try:
            with storage_errors("finish job"):
                JobModel(ref.key, job_id).update(
                    actions=actions, condition=JobModel.status == JobStatus.RUNNING.value
                )
        except UpdateError:
            return False
        return True

    def put_slice(self, job_id: str, slice_no: int, report: ImportReport) -> None:
        with storage_errors("save import slice"):
            JobSliceModel(
                *JobSliceModel.key(job_id, slice_no), report=report_to_json(report)
            ).save()

    def slices(self, job_id: str) -> Iterator[ImportReport]:
        with storage_errors("read import slices"):
            for item in JobSliceModel.query(f"slice#{job_id}", consistent_read=True):
                yield report_from_json(item.report)

    # --- sliced jobs ------------------------------------------------------------------------

    def save_plan(
        self, ref: ProjectRef, job_id: str, phase: int, specs: list[dict[str, object]]
    ) -> list[dict[str, object]]:
        item = JobPartModel(
            JobPartModel.partition(job_id),
            JobPartModel.plan_key(phase),
            specs=json.dumps(specs, separators=(",", ":")),
        )
        try:
            with storage_errors("save job plan"):
                item.save(condition=JobPartModel.part_no.does_not_exist())
        except PutError:
            specs = self.plan(job_id, phase)  # a retried plan: the first one stored stands
        self._update(ref, job_id, [JobModel.phase.set(phase)], "save job phase")
        return specs

    def plan(self, job_id: str, phase: int) -> list[dict[str, object]]:
        try:
            with storage_errors("read job plan"):
                item = JobPartModel.get(
                    JobPartModel.partition(job_id),
                    JobPartModel.plan_key(phase),
                    consistent_read=True,
                )
        except DoesNotExist:
            return []
        specs: list[dict[str, object]] = json.loads(item.specs or "[]")
        return specs

    def slice_state(self, job_id: str, phase: int, number: int) -> SliceState | None:
        return self._records.get(job_id, phase, number)

    def slice_states(self, job_id: str, phase: int) -> dict[int, SliceState]:
        return self._records.all(job_id, phase)

    def advance_slice(
        self,
        ref: ProjectRef,
        job_id: str,
        number: tuple[int, int],
        state: SliceState,
        progress: int,
    ) -> bool:
        return self._records.advance(job_id, number, state, progress)
