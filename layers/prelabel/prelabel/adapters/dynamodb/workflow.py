"""Runs, claims and the batch commit on DynamoDB: the guarantees of the product live here.

The commit is one TransactWriteItems: the organization's `remaining -= k` (condition
`remaining >= k`), each task's DONE/FAILED/release (condition: still claimed by this run and
not pre-labeled), the run's counters and a receipt item for the batch (condition: absent).
Either all of it happens or none, and a batch retried after its commit finds its receipt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.models import (
    BatchReceiptModel,
    LabelAttr,
    OrganizationModel,
    ProjectModel,
    RunModel,
    TaskModel,
)
from prelabel.adapters.dynamodb.projects import mapping_to_items
from prelabel.adapters.dynamodb.tasks import DynamoRunRepository
from prelabel.domain.entities import PrelabelState, ProjectRef, Run, RunStatus
from prelabel.domain.errors import NotFound
from prelabel.domain.ids import now_iso
from prelabel.ports.workflow import BatchCommit, ClaimStore, CommitResult, RunStore, TaskImage

ACTIVE = [RunStatus.RUNNING.value, RunStatus.STOPPING.value]
CONDITION_FAILED = "ConditionalCheckFailed"


def _failed_indexes(exc: TransactWriteError) -> set[int]:
    reasons = exc.cancellation_reasons or []
    return {i for i, r in enumerate(reasons) if r is not None and r.code == CONDITION_FAILED}


class DynamoRunStore(RunStore):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def create(self, run: Run) -> bool:
        snap = run.snapshot
        assert snap is not None, "a run is created with its mapping snapshot"
        item = RunModel(
            run.project.key,
            run.run_id,
            status=run.status.value,
            total=run.counters.total,
            labeled=0,
            failed=0,
            skipped_quota=0,
            started_at=run.started_at,
            execution_arn=run.execution_arn,
            mapping=mapping_to_items(snap.mapping),
            default_threshold=snap.default_threshold,
            entry_names=dict(snap.entry_names),
            batch_size=snap.batch_size,
        )
        try:
            with storage_errors("create run"), TransactWrite(connection=self._connection) as tx:
                tx.save(item, condition=RunModel.run_id.does_not_exist())
                tx.update(
                    ProjectModel(run.project.org_id, run.project.project_id),
                    actions=[ProjectModel.active_run_id.set(run.run_id)],
                    condition=ProjectModel.project_id.exists()
                    & ProjectModel.active_run_id.does_not_exist(),
                )
        except TransactWriteError as exc:
            if _failed_indexes(exc):
                return False
            raise
        return True

    def find(self, ref: ProjectRef, run_id: str) -> Run | None:
        try:
            return DynamoRunRepository().get(ref, run_id)
        except NotFound:
            return None

    def set_execution(self, ref: ProjectRef, run_id: str, execution_arn: str) -> None:
        with storage_errors("record execution"):
            RunModel(ref.key, run_id).update(actions=[RunModel.execution_arn.set(execution_arn)])

    def set_total(self, ref: ProjectRef, run_id: str, total: int) -> None:
        with storage_errors("record run total"):
            RunModel(ref.key, run_id).update(actions=[RunModel.total.set(total)])

    def request_stop(self, ref: ProjectRef, run_id: str) -> bool:
        try:
            with storage_errors("stop run"):
                RunModel(ref.key, run_id).update(
                    actions=[RunModel.status.set(RunStatus.STOPPING.value)],
                    condition=RunModel.status == RunStatus.RUNNING.value,
                )
        except UpdateError:
            return False
        return True

    def finish(self, ref: ProjectRef, run_id: str, status: RunStatus, message: str | None) -> bool:
        actions: list[Action] = [
            RunModel.status.set(status.value),
            RunModel.finished_at.set(now_iso()),
            RunModel.message.set(message) if message else RunModel.message.remove(),
        ]
        is_active = RunModel.status.is_in(*ACTIVE)
        try:
            with storage_errors("finish run"), TransactWrite(connection=self._connection) as tx:
                tx.update(RunModel(ref.key, run_id), actions=actions, condition=is_active)
                tx.update(
                    ProjectModel(ref.org_id, ref.project_id),
                    actions=[ProjectModel.active_run_id.remove()],
                    condition=ProjectModel.active_run_id == run_id,
                )
            return True
        except TransactWriteError as exc:
            failed = _failed_indexes(exc)
            if not failed:
                raise
            if 0 in failed:
                return False  # already final: finishing is idempotent
        # The project no longer points at this run; the run still gets its final status.
        try:
            with storage_errors("finish run"):
                RunModel(ref.key, run_id).update(actions=actions, condition=is_active)
        except UpdateError:
            return False
        return True

    def resolve_project(self, project_id: str) -> ProjectRef:
        with storage_errors("find project"):
            for item in ProjectModel.by_id.query(project_id, limit=1):
                return ProjectRef(item.org_id, item.project_id)
        raise NotFound(f"project {project_id!r} not found")


class DynamoClaimStore(ClaimStore):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def eligible_task_ids(self, ref: ProjectRef) -> list[str]:
        with storage_errors("list eligible tasks"):
            return [t.task_id for t in TaskModel.eligible.query(ref.key)]

    def eligible_images(
        self, ref: ProjectRef, task_ids: Sequence[str], run_id: str, now: float
    ) -> list[TaskImage]:
        with storage_errors("read batch tasks"):
            items = {t.task_id: t for t in TaskModel.batch_get([(ref.key, i) for i in task_ids])}
        result = []
        for task_id in task_ids:  # keep the manifest's order
            t = items.get(task_id)
            if t is None or t.eligible_key is None:
                continue
            leased_elsewhere = (
                t.claim_run_id not in (None, run_id) and (t.claim_expires_at or 0) >= now
            )
            if not leased_elsewhere:
                result.append(TaskImage(t.task_id, t.bucket, t.image_key))
        return result

    def claim(
        self, ref: ProjectRef, tasks: Sequence[TaskImage], run_id: str, now: float, lease_s: int
    ) -> list[TaskImage]:
        claimed = []
        for task in tasks:
            try:
                with storage_errors("claim task"):
                    TaskModel(ref.key, task.task_id).update(
                        actions=[
                            TaskModel.claim_run_id.set(run_id),
                            TaskModel.claim_expires_at.set(int(now) + lease_s),
                        ],
                        condition=TaskModel.eligible_key.exists()
                        & (
                            TaskModel.claim_run_id.does_not_exist()
                            | (TaskModel.claim_run_id == run_id)
                            | (TaskModel.claim_expires_at < int(now))
                        ),
                    )
                claimed.append(task)
            except UpdateError:
                continue  # taken, labeled or moved meanwhile: not this batch's any more
        return claimed

    def release(self, ref: ProjectRef, task_ids: Sequence[str], run_id: str) -> None:
        for task_id in task_ids:
            try:
                with storage_errors("release task"):
                    TaskModel(ref.key, task_id).update(
                        actions=[
                            TaskModel.claim_run_id.remove(),
                            TaskModel.claim_expires_at.remove(),
                        ],
                        condition=TaskModel.claim_run_id == run_id,
                    )
            except UpdateError:
                continue

    def release_all(self, ref: ProjectRef, run_id: str) -> int:
        with storage_errors("find claimed tasks"):
            held = [
                t.task_id
                for t in TaskModel.query(
                    ref.key,
                    filter_condition=TaskModel.claim_run_id == run_id,
                    attributes_to_get=["task_id"],
                )
            ]
        self.release(ref, held, run_id)
        return len(held)

    def batch_committed(self, run_id: str, batch_no: int) -> bool:
        key, batch = BatchReceiptModel.key(run_id, batch_no)
        with storage_errors("read batch receipt"):
            return BatchReceiptModel.count(key, BatchReceiptModel.batch == batch) > 0

    def commit(self, batch: BatchCommit) -> CommitResult:
        item = batch.item
        ref = item.ref
        k = len(batch.done)
        # pynamodb sends puts before updates: the receipt is item 0 of the transaction, then
        # the updates in the order they are added. Cancellation reasons follow that order.
        kinds: list[tuple[str, str]] = [("receipt", str(item.batch_no))]
        claimed_by_us = (TaskModel.claim_run_id == item.run_id) & (
            TaskModel.prelabel_state.does_not_exist()
        )
        unclaim = [
            TaskModel.eligible_key.remove(),
            TaskModel.claim_run_id.remove(),
            TaskModel.claim_expires_at.remove(),
            TaskModel.prelabel_run_id.set(item.run_id),
        ]
        try:
            with (
                storage_errors("commit batch"),
                TransactWrite(
                    connection=self._connection, client_request_token=_token(batch)
                ) as tx,
            ):
                key, batch_key = BatchReceiptModel.key(item.run_id, item.batch_no)
                tx.save(
                    BatchReceiptModel(key, batch_key, labeled=k, committed_at=now_iso()),
                    condition=BatchReceiptModel.receipt_key.does_not_exist(),
                )
                if k:
                    tx.update(
                        OrganizationModel(item.org_id),
                        actions=[OrganizationModel.remaining.add(-k)],
                        condition=OrganizationModel.remaining >= k,
                    )
                    kinds.append(("quota", item.org_id))
                for done in batch.done:
                    tx.update(
                        TaskModel(ref.key, done.task_id),
                        actions=[
                            TaskModel.prelabel_state.set(PrelabelState.DONE.value),
                            TaskModel.labels.set([_label_item(lbl) for lbl in done.labels]),
                            TaskModel.image_width.set(done.width),
                            TaskModel.image_height.set(done.height),
                            *unclaim,
                        ],
                        condition=claimed_by_us,
                    )
                    kinds.append(("task", done.task_id))
                for task_id, reason in batch.failed:
                    tx.update(
                        TaskModel(ref.key, task_id),
                        actions=[
                            TaskModel.prelabel_state.set(PrelabelState.FAILED.value),
                            TaskModel.prelabel_reason.set(reason[:500]),
                            *unclaim,
                        ],
                        condition=claimed_by_us,
                    )
                    kinds.append(("task", task_id))
                for task_id in batch.released:
                    tx.update(
                        TaskModel(ref.key, task_id),
                        actions=[
                            TaskModel.claim_run_id.remove(),
                            TaskModel.claim_expires_at.remove(),
                        ],
                        condition=TaskModel.claim_run_id == item.run_id,
                    )
                    kinds.append(("task", task_id))
                counters: list[Any] = [
                    RunModel.labeled.add(k),
                    RunModel.failed.add(len(batch.failed)),
                    RunModel.skipped_quota.add(batch.skipped_quota),
                    RunModel.total.add(-batch.withdrawn),
                ]
                if batch.skipped_quota:
                    counters.append(RunModel.quota_exhausted.set(True))
                tx.update(RunModel(ref.key, item.run_id), actions=counters)
                kinds.append(("run", item.run_id))
        except TransactWriteError as exc:
            return self._explain(exc, kinds, item.org_id)
        return CommitResult(committed=True)

    def _explain(
        self, exc: TransactWriteError, kinds: list[tuple[str, str]], org_id: str
    ) -> CommitResult:
        failed = [kinds[i] for i in _failed_indexes(exc) if i < len(kinds)]
        if not failed:
            raise exc
        if any(kind == "receipt" for kind, _ in failed):
            return CommitResult(committed=False, already_committed=True)
        quota_left = None
        if any(kind == "quota" for kind, _ in failed):
            with storage_errors("read remaining limit"):
                quota_left = int(OrganizationModel.get(org_id, consistent_read=True).remaining)
        lost = tuple(ident for kind, ident in failed if kind == "task")
        return CommitResult(committed=False, quota_left=quota_left, lost_task_ids=lost)


def _label_item(label: Any) -> LabelAttr:
    return LabelAttr(
        label_id=label.label_id,
        entry_id=label.entry_id,
        entry_name=label.entry_name,
        box=label.box.as_list(),
        detector_class=label.detector_class,
        score=label.score,
        model_name=label.model_name,
        model_version=label.model_version,
        source=label.source,
    )


def _token(batch: BatchCommit) -> str:
    """Same content, same token: DynamoDB then applies a resent request only once."""
    parts = [
        batch.item.run_id,
        str(batch.item.batch_no),
        ",".join(d.task_id for d in batch.done),
        ",".join(f for f, _ in batch.failed),
        ",".join(batch.released),
        str(batch.skipped_quota),
        str(batch.withdrawn),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:36]
