"""Tasks and runs on DynamoDB."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition

from prelabel.adapters.dynamodb.cursors import CursorCodec
from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.models import LabelAttr, RunModel, TaskModel
from prelabel.adapters.dynamodb.projects import mapping_from_items
from prelabel.domain.entities import (
    Box,
    Label,
    LabelingState,
    PrelabelState,
    ProjectRef,
    Run,
    RunCounters,
    RunSnapshot,
    RunStatus,
    Task,
)
from prelabel.domain.errors import NotFound
from prelabel.ports.tasks import RunRepository, TaskFilter, TaskPage, TaskRepository


def dataset_key(ref: ProjectRef, dataset_id: str) -> str:
    return f"{ref.key}#{dataset_id}"


def eligible_key(ref: ProjectRef, state: LabelingState, prelabel_state: str | None) -> str | None:
    """The sparse index holds a task only while it is WAITING and never pre-labeled."""
    if state is LabelingState.WAITING and prelabel_state is None:
        return ref.key
    return None


def _label_to_domain(item: LabelAttr) -> Label:
    x1, y1, x2, y2 = (float(cast(float, v)) for v in item.box)
    return Label(
        label_id=item.label_id,
        entry_id=item.entry_id,
        entry_name=item.entry_name,
        box=Box(x1, y1, x2, y2),
        detector_class=item.detector_class,
        score=float(item.score),
        model_name=item.model_name,
        model_version=item.model_version,
        source=item.source,
    )


def task_to_domain(item: TaskModel) -> Task:
    org_id, project_id = item.project_key.split("#", 1)
    return Task(
        project=ProjectRef(org_id, project_id),
        task_id=item.task_id,
        dataset_id=item.dataset_id,
        bucket=item.bucket,
        image_key=item.image_key,
        state=LabelingState(item.state),
        prelabel_state=PrelabelState(item.prelabel_state) if item.prelabel_state else None,
        prelabel_reason=item.prelabel_reason,
        labels=tuple(_label_to_domain(lbl) for lbl in item.labels or []),
        image_width=None if item.image_width is None else int(item.image_width),
        image_height=None if item.image_height is None else int(item.image_height),
        created_at=item.created_at,
    )


def _filter(flt: TaskFilter) -> Condition | None:
    parts: list[Condition] = []
    if flt.state is not None:
        parts.append(TaskModel.state == flt.state.value)
    if flt.prelabeled is True:
        parts.append(TaskModel.prelabel_state == PrelabelState.DONE.value)
    elif flt.prelabeled is False:
        parts.append(
            TaskModel.prelabel_state.does_not_exist()
            | (TaskModel.prelabel_state != PrelabelState.DONE.value)
        )
    if flt.dataset_id is not None:
        parts.append(TaskModel.dataset_id == flt.dataset_id)
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined


class DynamoTaskRepository(TaskRepository):
    def __init__(self, cursor_key: bytes) -> None:
        self._cursors = CursorCodec(cursor_key)

    def add_many(self, tasks: Sequence[Task]) -> None:
        with storage_errors("create tasks"), TaskModel.batch_write() as batch:
            for t in tasks:
                batch.save(
                    TaskModel(
                        t.project.key,
                        t.task_id,
                        dataset_id=t.dataset_id,
                        dataset_key=dataset_key(t.project, t.dataset_id),
                        bucket=t.bucket,
                        image_key=t.image_key,
                        state=t.state.value,
                        eligible_key=eligible_key(
                            t.project, t.state, t.prelabel_state and t.prelabel_state.value
                        ),
                        created_at=t.created_at,
                    )
                )

    def get(self, ref: ProjectRef, task_id: str) -> Task:
        try:
            with storage_errors("read task"):
                return task_to_domain(TaskModel.get(ref.key, task_id, consistent_read=True))
        except DoesNotExist as exc:
            raise NotFound(f"task {task_id!r} not found") from exc

    def list_tasks(
        self, ref: ProjectRef, flt: TaskFilter, limit: int, cursor: str | None
    ) -> TaskPage:
        start = self._cursors.decode(ref.key, cursor) if cursor else None
        with storage_errors("list tasks"):
            result = TaskModel.query(
                ref.key,
                filter_condition=_filter(flt),
                limit=limit,
                last_evaluated_key=start,
            )
            tasks = [task_to_domain(i) for i in result]
            return TaskPage(tasks, self._cursors.encode(ref.key, result.last_evaluated_key))

    def delete_dataset_tasks(self, ref: ProjectRef, dataset_id: str) -> int:
        removed = 0
        with storage_errors("delete dataset tasks"), TaskModel.batch_write() as batch:
            for key in TaskModel.by_dataset.query(dataset_key(ref, dataset_id)):
                batch.delete(TaskModel(ref.key, key.task_id))
                removed += 1
        return removed

    def move(
        self, ref: ProjectRef, task_ids: Sequence[str], source: LabelingState, target: LabelingState
    ) -> list[str]:
        moved: list[str] = []
        with storage_errors("read tasks"):
            items = list(TaskModel.batch_get([(ref.key, tid) for tid in task_ids]))
        for item in items:
            new_key = eligible_key(ref, target, item.prelabel_state)
            action = (
                TaskModel.eligible_key.set(new_key) if new_key else TaskModel.eligible_key.remove()
            )
            # The pre-label state read above decides the index key, so it must not have changed.
            unchanged = (
                TaskModel.prelabel_state.does_not_exist()
                if item.prelabel_state is None
                else TaskModel.prelabel_state == item.prelabel_state
            )
            try:
                with storage_errors("move task"):
                    item.update(
                        actions=[TaskModel.state.set(target.value), action],
                        condition=(TaskModel.state == source.value) & unchanged,
                    )
                moved.append(item.task_id)
            except UpdateError:
                continue  # changed meanwhile: it is no longer in `source`, so it is not moved
        return moved

    def ids_in_state(self, ref: ProjectRef, state: LabelingState) -> list[str]:
        with storage_errors("list tasks"):
            return [
                i.task_id
                for i in TaskModel.query(
                    ref.key,
                    filter_condition=TaskModel.state == state.value,
                    attributes_to_get=["task_id"],
                )
            ]

    def count_eligible(self, ref: ProjectRef) -> int:
        with storage_errors("count eligible tasks"):
            return TaskModel.eligible.count(ref.key)


def run_to_domain(item: RunModel) -> Run:
    org_id, project_id = item.project_key.split("#", 1)
    return Run(
        project=ProjectRef(org_id, project_id),
        run_id=item.run_id,
        status=RunStatus(item.status),
        counters=RunCounters(
            total=int(item.total),
            labeled=int(item.labeled),
            failed=int(item.failed),
            skipped_quota=int(item.skipped_quota),
        ),
        started_at=item.started_at,
        finished_at=item.finished_at,
        message=item.message,
        snapshot=RunSnapshot(
            mapping=mapping_from_items(item.mapping),
            default_threshold=float(item.default_threshold),
            entry_names={str(k): str(v) for k, v in item.entry_names.as_dict().items()}
            if item.entry_names
            else {},
            batch_size=int(item.batch_size),
        ),
        execution_arn=item.execution_arn,
        quota_exhausted=bool(item.quota_exhausted),
    )


class DynamoRunRepository(RunRepository):
    def get(self, ref: ProjectRef, run_id: str) -> Run:
        try:
            with storage_errors("read run"):
                return run_to_domain(RunModel.get(ref.key, run_id, consistent_read=True))
        except DoesNotExist as exc:
            raise NotFound(f"run {run_id!r} not found") from exc

    def latest(self, ref: ProjectRef) -> Run | None:
        # Run ids are execution names, and a console start picks its own: order by start time.
        with storage_errors("read latest run"):
            items = list(RunModel.query(ref.key, attributes_to_get=["run_id", "started_at"]))
        if not items:
            return None
        return self.get(ref, max(items, key=lambda i: i.started_at).run_id)
