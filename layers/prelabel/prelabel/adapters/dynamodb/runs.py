"""Runs on DynamoDB: a small item per run (status and counters, updated by every commit) and
a snapshot item with the mapping the run started with."""

from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from prelabel.adapters.dynamodb.errors import condition_failed, read_item, storage_errors
from prelabel.adapters.dynamodb.keys import project_ref
from prelabel.adapters.dynamodb.mapping_items import (
    mapping_from_items,
    mapping_to_items,
    pick_from_item,
    pick_to_item,
)
from prelabel.adapters.dynamodb.models import ProjectModel, RunModel, RunSnapshotModel
from prelabel.adapters.dynamodb.shards import read_layout
from prelabel.adapters.dynamodb.transact import Transaction
from prelabel.domain.entities import ProjectRef, Run, RunCounters, RunSnapshot, RunStatus
from prelabel.domain.errors import NotFound
from prelabel.domain.ids import now_iso
from prelabel.ports.runs import RunRepository

ACTIVE = (RunStatus.RUNNING.value, RunStatus.STOPPING.value)


def snapshot_key(ref: ProjectRef) -> str:
    return f"snapshot#{ref.key}"


def run_to_domain(item: RunModel) -> Run:
    return Run(
        project=project_ref(item.project_key),
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
        execution_arn=item.execution_arn,
        quota_exhausted=bool(item.quota_exhausted),
        failure=item.failure,
    )


class DynamoRunRepository(RunRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def create(self, run: Run, snapshot: RunSnapshot) -> bool:
        tx = Transaction(self._connection)
        tx.put(
            ("run", run.run_id),
            RunModel(
                run.project.key,
                run.run_id,
                status=run.status.value,
                total=run.counters.total,
                labeled=0,
                failed=0,
                skipped_quota=0,
                started_at=run.started_at,
                execution_arn=run.execution_arn,
            ),
            condition=RunModel.run_id.does_not_exist(),
        )
        tx.put(
            ("snapshot", run.run_id),
            RunSnapshotModel(
                snapshot_key(run.project),
                run.run_id,
                mapping=mapping_to_items(snapshot.mapping),
                default_threshold=snapshot.default_threshold,
                entry_names=dict(snapshot.entry_names),
                batch_size=snapshot.batch_size,
                model=pick_to_item(snapshot.model),
            ),
        )
        tx.update(
            ("project", run.project.project_id),
            ProjectModel(run.project.org_id, run.project.project_id),
            [ProjectModel.active_run_id.set(run.run_id)],
            # A run's tasks stay where they are: none while a job moves them to shards.
            condition=ProjectModel.project_id.exists()
            & ProjectModel.active_run_id.does_not_exist()
            & ProjectModel.reshard_job.does_not_exist(),
        )
        if not tx.commit("create run"):
            return True
        busy = read_layout(run.project).busy
        if busy is not None:
            raise busy
        return False

    def get(self, ref: ProjectRef, run_id: str) -> Run:
        missing = f"run {run_id!r} not found"
        return run_to_domain(read_item(RunModel, ref.key, run_id, what="read run", missing=missing))

    def find(self, ref: ProjectRef, run_id: str) -> Run | None:
        try:
            return self.get(ref, run_id)
        except NotFound:
            return None

    def recent(self, ref: ProjectRef, limit: int) -> list[Run]:
        with storage_errors("list runs"):
            runs = [run_to_domain(i) for i in RunModel.query(ref.key)]
        runs.sort(key=lambda r: (r.started_at, r.run_id), reverse=True)
        return runs[:limit]

    def latest(self, ref: ProjectRef) -> Run | None:
        # Run ids are execution names, and a console start picks its own: order by start time.
        newest = self.recent(ref, 1)
        return newest[0] if newest else None

    def snapshot(self, ref: ProjectRef, run_id: str) -> RunSnapshot:
        item = read_item(
            RunSnapshotModel,
            snapshot_key(ref),
            run_id,
            what="read run snapshot",
            missing=f"run {run_id!r} has no mapping snapshot",
        )
        names = item.entry_names.as_dict() if item.entry_names else {}
        return RunSnapshot(
            mapping=mapping_from_items(item.mapping),
            default_threshold=float(item.default_threshold),
            entry_names={str(k): str(v) for k, v in names.items()},
            batch_size=int(item.batch_size),
            model=pick_from_item(item.model),
        )

    def set_execution(self, ref: ProjectRef, run_id: str, execution_arn: str) -> None:
        with storage_errors("record execution"):
            RunModel(ref.key, run_id).update(actions=[RunModel.execution_arn.set(execution_arn)])

    def set_total(self, ref: ProjectRef, run_id: str, total: int) -> None:
        with storage_errors("record run total"):
            RunModel(ref.key, run_id).update(actions=[RunModel.total.set(total)])

    def request_stop(self, ref: ProjectRef, run_id: str) -> bool:
        return self._update_if(
            ref,
            run_id,
            [RunModel.status.set(RunStatus.STOPPING.value)],
            RunStatus.RUNNING.value,
        )

    def finish(self, ref: ProjectRef, run_id: str, status: RunStatus, failure: str | None) -> bool:
        actions: list[Action] = [
            RunModel.status.set(status.value),
            RunModel.finished_at.set(now_iso()),
        ]
        if failure:
            actions.append(RunModel.failure.set(failure[:500]))
        is_active = RunModel.status.is_in(*ACTIVE)
        tx = Transaction(self._connection)
        tx.update(("run", run_id), RunModel(ref.key, run_id), actions, condition=is_active)
        tx.update(
            ("project", ref.project_id),
            ProjectModel(ref.org_id, ref.project_id),
            [ProjectModel.active_run_id.remove()],
            condition=ProjectModel.active_run_id == run_id,
        )
        failed = tx.commit("finish run")
        if not failed:
            return True
        if ("run", run_id) in failed:
            return False  # already final: finishing is idempotent
        # The project no longer points at this run; the run still gets its final status.
        return self._update_if(ref, run_id, actions, *ACTIVE)

    def _update_if(self, ref: ProjectRef, run_id: str, actions: list[Action], *status: str) -> bool:
        try:
            with storage_errors("update run"):
                RunModel(ref.key, run_id).update(
                    actions=actions, condition=RunModel.status.is_in(*status)
                )
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True
