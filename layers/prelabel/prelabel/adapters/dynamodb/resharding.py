"""Moving a legacy project's tasks to shards: the reshard job's writes.

The project item first records the job and the target N (`reshard_job`, `reshard_to`), in an
update conditioned on no active run; from then on every other writer is refused (a legacy
write checks the project item in its transaction, a run's start checks it too) and readers read
the legacy partition and the new shards together. Each slice reads the next tasks of the legacy
partition (strongly consistent: it shrinks as tasks leave) and moves them in transactions that
each put the task (and its pre-label) at its shard's keys, delete the legacy items, and move
their counts from the legacy counters item to the shard's. A task is in exactly one place at
every moment, so a crashed slice leaves nothing half-moved and its rerun moves what is left.
The last step makes N the project's and drops the legacy counters item, whose leftover values
(zero, unless they had drifted) go to shard 0, so the summed counts stay what they were.
"""

from __future__ import annotations

from collections import Counter

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, UpdateError

from prelabel.adapters.dynamodb.counts import counter_actions, counter_values, counts_item
from prelabel.adapters.dynamodb.errors import condition_failed, storage_errors
from prelabel.adapters.dynamodb.keys import COUNTS_ITEM, STATE_COUNTER, Shard, outcome_of
from prelabel.adapters.dynamodb.models import (
    CountsModel,
    JobModel,
    PrelabelModel,
    ProjectModel,
    TaskModel,
)
from prelabel.adapters.dynamodb.shards import Layout, pack, read_layout
from prelabel.adapters.dynamodb.task_items import (
    prelabels_of,
    task_item,
    task_to_domain,
    tasks_by_id,
)
from prelabel.adapters.dynamodb.transact import Transaction
from prelabel.domain.entities import LabelingState, PrelabelState, ProjectRef
from prelabel.domain.errors import Conflict, DomainError, NotFound, StorageError
from prelabel.ports.tasks import Removal

# Tasks read from the legacy partition at a time, and moved per transaction: a task and its
# pre-label are 4 items, so 20 of them, the legacy counters, up to 8 shards' counters, the
# job's progress and the project check make at most 91.
READ_AT_ONCE = 200
MOVES_PER_TX = 20
SHARDS_PER_TX = 8
IDLE_ROUNDS = 3


def begin(ref: ProjectRef, job_id: str, shards: int, taking_over: str | None) -> None:
    ours = ProjectModel.reshard_job.does_not_exist()
    if taking_over is not None:
        ours = ours | (ProjectModel.reshard_job == taking_over)
    try:
        with storage_errors("start moving tasks to shards"):
            ProjectModel(ref.org_id, ref.project_id).update(
                actions=[ProjectModel.reshard_to.set(shards), ProjectModel.reshard_job.set(job_id)],
                condition=ProjectModel.project_id.exists()
                & ProjectModel.shards.does_not_exist()
                & ProjectModel.active_run_id.does_not_exist()
                & ours,
            )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise _why_not(ref) from exc


def _why_not(ref: ProjectRef) -> DomainError:
    try:
        with storage_errors("read project"):
            item = ProjectModel.get(ref.org_id, ref.project_id, consistent_read=True)
    except DoesNotExist:
        return NotFound(f"project {ref.project_id!r} not found")
    if item.shards is not None:
        return Conflict(f"the project's tasks are spread over {int(item.shards)} shards already")
    if item.active_run_id:
        return Conflict("a pre-labeling run is active; move the tasks to shards once it has ended")
    return Conflict(f"job {item.reshard_job} is moving the project's tasks to shards")


def _owned(ref: ProjectRef, job_id: str) -> Layout:
    layout = read_layout(ref)
    if layout.moving_job != job_id or layout.moving_to is None:
        raise Conflict(f"job {job_id} no longer moves the project's tasks to shards")
    return layout


def _task_counts(state: str, prelabel: PrelabelModel | None) -> Counter[str]:
    """What one task adds to its counters item."""
    counts: Counter[str] = Counter({STATE_COUNTER[LabelingState(state)]: 1})
    if prelabel is None:
        counts["eligible"] += state == LabelingState.WAITING.value
    else:
        done = outcome_of(prelabel.outcome_key) is PrelabelState.DONE
        counts["prelabeled" if done else "failed"] += 1
    return counts


class Resharder:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def slice(self, ref: ProjectRef, job_id: str, limit: int) -> Removal:
        layout = _owned(ref, job_id)
        moved, idle = 0, 0
        while moved < limit:
            with storage_errors("list tasks to move"):
                ids = [
                    t.task_id
                    for t in TaskModel.query(
                        layout.legacy.tasks_key,
                        consistent_read=True,
                        limit=READ_AT_ONCE,
                        attributes_to_get=["task_id"],
                    )
                ]
            if not ids:
                return Removal(moved, left=False)
            done = self._move(layout, job_id, ids)
            # A round that moves nothing met another attempt of the step moving the same
            # tasks (a retry overlapping a Lambda still running): read again, a few times.
            idle = 0 if done else idle + 1
            if idle == IDLE_ROUNDS:
                raise StorageError("move tasks to shards: no task could move; try again")
            moved += done
        return Removal(moved, left=True)

    def _move(self, layout: Layout, job_id: str, ids: list[str]) -> int:
        assert layout.moving_to is not None
        legacy = Layout(layout.ref, None)
        items = tasks_by_id(legacy, ids)
        prelabels = prelabels_of(legacy, list(items))
        target = Layout(layout.ref, layout.moving_to)
        moved = 0
        for groups in pack(target.group(items), MOVES_PER_TX, SHARDS_PER_TX):
            tx = Transaction(self._connection)
            taken: Counter[str] = Counter()
            for shard, chunk in groups:
                gained: Counter[str] = Counter()
                for task_id in chunk:
                    gained += self._move_one(tx, shard, items[task_id], prelabels.get(task_id))
                tx.update(("counts", str(shard.n)), counts_item(shard), counter_actions(gained))
                taken += gained
            n = sum(len(chunk) for _, chunk in groups)
            tx.update(
                ("counts", "legacy"),
                counts_item(layout.legacy),
                counter_actions({k: -v for k, v in taken.items()}),
            )
            tx.update(
                ("job", ""),
                JobModel(layout.ref.key, job_id),
                [JobModel.done.add(n)],
                condition=JobModel.job_id.exists(),
            )
            tx.check(
                ("project", ""),
                ProjectModel,
                layout.ref.org_id,
                layout.ref.project_id,
                ProjectModel.reshard_job == job_id,
            )
            failed = tx.commit("move tasks to shards")
            if ("project", "") in failed or ("job", "") in failed:
                raise Conflict(f"job {job_id} no longer moves the project's tasks to shards")
            if failed:
                # Nothing else writes the tasks now; a task gone or changed is read again by
                # the next round, from the legacy partition.
                continue
            moved += n
        return moved

    @staticmethod
    def _move_one(
        tx: Transaction, shard: Shard, item: TaskModel, prelabel: PrelabelModel | None
    ) -> Counter[str]:
        tx.put(
            ("new", item.task_id),
            task_item(shard, task_to_domain(item, None)),
            condition=TaskModel.task_id.does_not_exist(),
        )
        tx.delete(("task", item.task_id), item, condition=TaskModel.state == item.state)
        if prelabel is not None:
            outcome = outcome_of(prelabel.outcome_key)
            copy = PrelabelModel(
                shard.outcome_key(outcome),
                prelabel.task_id,
                run_id=prelabel.run_id,
                width=prelabel.width,
                height=prelabel.height,
                model=prelabel.model,
                labels=prelabel.labels,
                reason=prelabel.reason,
                # Its review-index entry moves with it: the index's partition is this key.
                review=prelabel.review,
            )
            tx.put(("new pre-label", item.task_id), copy, PrelabelModel.task_id.does_not_exist())
            tx.delete(("pre-label", item.task_id), prelabel, PrelabelModel.task_id.exists())
        return _task_counts(item.state, prelabel)

    def end(self, ref: ProjectRef, job_id: str) -> None:
        layout = _owned(ref, job_id)
        assert layout.moving_to is not None
        with storage_errors("check tasks left to move"):
            left = next(iter(TaskModel.query(layout.legacy.tasks_key, limit=1)), None)
        if left is not None:
            raise Conflict(f"task {left.task_id} is still to be moved to its shard")
        tx = Transaction(self._connection)
        tx.update(
            ("project", ""),
            ProjectModel(ref.org_id, ref.project_id),
            [
                ProjectModel.shards.set(layout.moving_to),
                ProjectModel.reshard_to.remove(),
                ProjectModel.reshard_job.remove(),
            ],
            condition=ProjectModel.reshard_job == job_id,
        )
        self._fold_legacy_counters(tx, layout)
        if tx.commit("end moving tasks to shards"):
            raise Conflict(f"job {job_id} no longer moves the project's tasks to shards")

    @staticmethod
    def _fold_legacy_counters(tx: Transaction, layout: Layout) -> None:
        try:
            with storage_errors("read legacy counters"):
                item = CountsModel.get(layout.legacy.counts_key, COUNTS_ITEM, consistent_read=True)
        except DoesNotExist:
            return
        tx.delete(("counts", "legacy"), item)
        rest = {k: v for k, v in counter_values(item).items() if v}
        if rest:
            tx.update(("counts", "0"), counts_item(Shard(layout.ref, 0)), counter_actions(rest))
