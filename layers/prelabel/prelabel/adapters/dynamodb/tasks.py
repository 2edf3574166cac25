"""Tasks on DynamoDB: task items, their pre-label items, the indexes and the counters, spread
over the project's shards (see keys.py and shards.py).

Every write that changes what the counters count (new tasks, moves, deletions) changes the
counters item of each shard it writes in the same transaction, so the counters never drift
from the items. A write's tasks are grouped by shard, so a transaction touches one or a few
counters items, and consecutive transactions go to different shards. Deleting a task deletes
its reviewed labels in the same transaction, with their counts (reviewed_items.py).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pynamodb.connection import Connection
from pynamodb.expressions.condition import Condition

from prelabel.adapters.dynamodb.counts import counter_actions, counts_item, read_counts
from prelabel.adapters.dynamodb.cursors import CursorCodec
from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.job_parts import progress_action
from prelabel.adapters.dynamodb.keys import STATE_COUNTER, Shard, outcome_of
from prelabel.adapters.dynamodb.models import DatasetModel, JobModel, ProjectModel, TaskModel
from prelabel.adapters.dynamodb.resharding import Resharder
from prelabel.adapters.dynamodb.resharding import begin as begin_resharding
from prelabel.adapters.dynamodb.review_queue import QUEUED as REVIEW_QUEUED
from prelabel.adapters.dynamodb.review_queue import REST as REVIEW_REST
from prelabel.adapters.dynamodb.review_queue import read_prelabel_classes, read_review_page
from prelabel.adapters.dynamodb.reviewed_items import forget_reviews
from prelabel.adapters.dynamodb.shards import Layout, Layouts, pack, read_layout
from prelabel.adapters.dynamodb.task_items import (
    joined,
    prelabels_of,
    task_item,
    task_to_domain,
    tasks_by_id,
)
from prelabel.adapters.dynamodb.task_lists import (
    eligible_ids,
    ids_in_state,
    read_page,
    source_of,
    tasks_in_span,
)
from prelabel.adapters.dynamodb.transact import Transaction
from prelabel.domain.entities import (
    LabelingState,
    PrelabelState,
    ProjectCounts,
    ProjectRef,
    Task,
)
from prelabel.domain.errors import Busy, Conflict, NotFound, StorageError
from prelabel.ports.tasks import (
    ELIGIBLE_RUN,
    IdRange,
    Move,
    PrelabelClasses,
    Removal,
    Sharding,
    TaskFilter,
    TaskOrder,
    TaskPage,
    TaskRepository,
    TaskSpan,
)

# Items per transaction: 90 task writes, the counters items of up to 8 shards, and the dataset
# (imports) or the job's progress (moves by a job), and the project check (moves out of
# WAITING, a legacy project's writes) stay within DynamoDB's 100.
TASKS_PER_TX = 90
COUNTERS_PER_TX = 8
# Deleting a task also deletes its pre-label item and its reviewed-label items (under its
# shard, and under the unnumbered key of a project moved to shards since): 22 tasks bring at
# most 88 items; one shard's counters, the two rv counters, the dataset, the project check and
# the job slice's progress make 94 of DynamoDB's 100.
DELETES_PER_TX = 22
MAX_TX_ATTEMPTS = 6
# Writes of one shard meet on its counters item (a job, the API's moves, a run's commits): a
# conflict is tried again.
BUSY_ATTEMPTS = 5
BUSY_BACKOFF_S = 0.05
RUN_ACTIVE = "a pre-labeling run is active"

Groups = list[tuple[Shard, list[str]]]


@dataclass(frozen=True, slots=True)
class Counted:
    """Whom a deletion counts for: the dataset (its `task_count`), while the job owns it, and
    the job's slice (its progress), when one does the deleting."""

    dataset_id: str
    job_id: str
    slice: tuple[int, int] | None = None


def _commit(tx: Transaction, what: str) -> list[tuple[str, str]]:
    """Commit; a transaction that met another on a counters item (TransactionConflict:
    nothing was written) is tried again a few times, with jittered backoff, before Busy."""
    for attempt in range(BUSY_ATTEMPTS):
        try:
            return tx.commit(what)
        except Busy:
            if attempt == BUSY_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, BUSY_BACKOFF_S * 2**attempt))  # noqa: S311
    raise AssertionError("unreachable")


def _count_in_dataset(
    tx: Transaction, ref: ProjectRef, dataset: tuple[str, str], delta: int
) -> None:
    """The dataset's `task_count` in the same transaction, while its job still owns it."""
    dataset_id, job_id = dataset
    tx.update(
        ("dataset", ""),
        DatasetModel(ref.key, dataset_id),
        [DatasetModel.task_count.add(delta)],
        condition=DatasetModel.job_id == job_id,
    )


def _unchanged(item: TaskModel) -> Condition:
    """A task deleted as read: in the same state, and with no reviewed labels written since
    (their write sets `reviewed_job` in its transaction), so none is left without its task."""
    reviewed: Condition = (
        TaskModel.reviewed_job.does_not_exist()
        if item.reviewed_job is None
        else TaskModel.reviewed_job == item.reviewed_job
    )
    same: Condition = (TaskModel.state == item.state) & reviewed
    return same


def check_project(tx: Transaction, layout: Layout, *, no_run: bool) -> None:
    """One check of the project item, failing at ("project", ""): no run is active (`no_run`:
    a run's tasks stay as they were when it started) and a legacy project is still legacy."""
    conditions: list[Condition] = []
    if no_run:
        conditions.append(ProjectModel.active_run_id.does_not_exist())
    if layout.guard is not None:
        conditions.append(layout.guard)
    if not conditions:
        return
    condition = conditions[0]
    for more in conditions[1:]:
        condition = condition & more
    ref = layout.ref
    tx.check(("project", ""), ProjectModel, ref.org_id, ref.project_id, condition)


def refusal(layout: Layout, run_message: str) -> Conflict:
    """Why the project check failed: its layout changed meanwhile, or a run is active."""
    now = read_layout(layout.ref)
    if (now.shards, now.moving_job) != (layout.shards, layout.moving_job):
        return now.busy or Conflict("the project's tasks moved to shards meanwhile; try again")
    return Conflict(run_message)


def _dataset_taken(dataset: tuple[str, str] | None) -> Conflict:
    dataset_id, job_id = dataset or ("?", "?")
    return Conflict(f"dataset {dataset_id} is no longer worked on by job {job_id}")


def deltas_of_new(tasks: Sequence[Task]) -> Counter[str]:
    deltas: Counter[str] = Counter(STATE_COUNTER[t.state] for t in tasks)
    deltas["eligible"] = sum(1 for t in tasks if t.state is LabelingState.WAITING)
    return deltas


class DynamoTaskRepository(TaskRepository):
    def __init__(
        self,
        connection: Connection,
        cursor_key: bytes,
        layouts: Layouts | None = None,
        reshard_to: int = 16,
    ) -> None:
        self._connection = connection
        self._cursors = CursorCodec(cursor_key)
        self.layouts = layouts or Layouts()
        # A reshard job moves a legacy project's tasks to this many shards.
        self._reshard_to = reshard_to
        self._resharder = Resharder(connection)

    # --- writes ---------------------------------------------------------------------------

    def add_many(self, tasks: Sequence[Task]) -> None:
        by_project: dict[ProjectRef, list[Task]] = {}
        for task in tasks:
            by_project.setdefault(task.project, []).append(task)
        for ref, group in by_project.items():
            self._add(ref, group, None)

    def add_dataset_tasks(
        self, ref: ProjectRef, dataset_id: str, job_id: str, tasks: Sequence[Task]
    ) -> int:
        if any(t.project != ref or t.dataset_id != dataset_id for t in tasks):
            raise ValueError(f"every task must be of dataset {dataset_id} of {ref.key}")
        return self._add(ref, tasks, (dataset_id, job_id))

    def _add(self, ref: ProjectRef, tasks: Sequence[Task], dataset: tuple[str, str] | None) -> int:
        layout = self.layouts.of(ref)
        unique = {t.task_id: t for t in tasks}
        added = 0
        for groups in pack(layout.group(unique), TASKS_PER_TX, COUNTERS_PER_TX):
            chunk = [(shard, [unique[t] for t in ids]) for shard, ids in groups]
            added += self._add_chunk(layout, chunk, dataset)
        return added

    def _add_chunk(
        self,
        layout: Layout,
        chunk: list[tuple[Shard, list[Task]]],
        dataset: tuple[str, str] | None,
    ) -> int:
        pending = chunk
        for _ in range(MAX_TX_ATTEMPTS):
            tx = Transaction(self._connection)
            for shard, tasks in pending:
                for t in tasks:
                    tx.put(
                        ("task", t.task_id),
                        task_item(shard, t),
                        condition=TaskModel.task_id.does_not_exist(),
                    )
                deltas = counter_actions(deltas_of_new(tasks))
                tx.update(("counts", str(shard.n)), counts_item(shard), deltas)
            n = sum(len(tasks) for _, tasks in pending)
            if dataset is not None:
                _count_in_dataset(tx, layout.ref, dataset, n)
            check_project(tx, layout, no_run=False)
            failed = _commit(tx, "create tasks")
            if not failed:
                return n
            if ("dataset", "") in failed:
                raise _dataset_taken(dataset)
            if ("project", "") in failed:
                raise refusal(layout, RUN_ACTIVE)
            # A task id that exists was written by an earlier attempt of the same import (ids
            # are derived from the image): it is counted already, so the rest go without it.
            existing = {ident for kind, ident in failed if kind == "task"}
            pending = [
                (shard, kept)
                for shard, tasks in pending
                if (kept := [t for t in tasks if t.task_id not in existing])
            ]
            if not pending:
                return 0
        raise StorageError("create tasks: the transaction kept failing")

    def move(self, ref: ProjectRef, task_ids: Sequence[str], move: Move) -> list[str]:
        layout = self.layouts.of(ref)
        ids = list(dict.fromkeys(task_ids))
        moved: set[str] = set()
        for groups in pack(layout.group(ids), TASKS_PER_TX, COUNTERS_PER_TX):
            moved.update(self._move_chunk(layout, groups, move))
        return [t for t in ids if t in moved]

    def _move_chunk(self, layout: Layout, groups: Groups, move: Move) -> list[str]:
        source, target, job_id = move.source, move.target, move.job_id
        for _ in range(MAX_TX_ATTEMPTS):
            items = tasks_by_id(layout, [t for _, ids in groups for t in ids])
            pending = [
                (shard, still)
                for shard, ids in groups
                if (still := [t for t in ids if t in items and items[t].state == source.value])
            ]
            if not pending:
                return []
            moving = [t for _, ids in pending for t in ids]
            labeled = prelabels_of(layout, moving, keys_only=True)
            tx = Transaction(self._connection)
            for shard, ids in pending:
                deltas = {STATE_COUNTER[source]: -len(ids), STATE_COUNTER[target]: len(ids)}
                if LabelingState.WAITING in (source, target):
                    unlabeled = sum(1 for t in ids if t not in labeled)
                    into = target is LabelingState.WAITING
                    deltas["eligible"] = unlabeled if into else -unlabeled
                for task_id in ids:
                    tx.update(
                        ("task", task_id),
                        TaskModel(shard.tasks_key, task_id),
                        [
                            TaskModel.state.set(target.value),
                            TaskModel.state_key.set(shard.state_key(target)),
                        ],
                        condition=TaskModel.state == source.value,
                    )
                tx.update(("counts", str(shard.n)), counts_item(shard), counter_actions(deltas))
            if job_id is not None and move.slice is not None:
                tx.update(("job", ""), *progress_action(job_id, move.slice, len(moving)))
            elif job_id is not None:
                tx.update(
                    ("job", ""),
                    JobModel(layout.ref.key, job_id),
                    [JobModel.done.add(len(moving))],
                    condition=JobModel.job_id.exists(),
                )
            check_project(tx, layout, no_run=source is LabelingState.WAITING)
            failed = _commit(tx, "move tasks")
            if not failed:
                return moving
            if ("project", "") in failed:
                raise refusal(
                    layout,
                    f"tasks cannot leave {source.value} while a pre-labeling run is active; "
                    "stop the run first",
                )
            if ("job", "") in failed:
                raise NotFound(f"job {job_id!r} not found")
            # A task changed meanwhile: read again and move what is still in `source`.
        raise StorageError("move tasks: the transaction kept failing")

    def delete_dataset_tasks(
        self,
        ref: ProjectRef,
        dataset_id: str,
        job_id: str,
        limit: int,
        part: int | None = None,
        slice: tuple[int, int] | None = None,
    ) -> Removal:
        """Shard by shard in turn, a transaction of up to 22 of one shard's tasks at a time."""
        layout = self.layouts.of(ref).writable()
        listing = list(layout.part(part))
        counted = Counted(dataset_id, job_id, slice)
        removed, lagging = 0, False
        while removed < limit and listing:
            for shard in list(listing):
                with storage_errors("list dataset tasks"):
                    ids = [
                        k.task_id
                        for k in TaskModel.by_dataset.query(
                            shard.dataset_key(dataset_id), limit=DELETES_PER_TX
                        )
                    ]
                gone = self._delete_chunk(layout, shard, ids, counted) if ids else 0
                if not gone:
                    # Empty, or the index still lists deleted tasks for a moment: the next
                    # call goes on from there.
                    listing.remove(shard)
                    lagging = lagging or bool(ids)
                    continue
                removed += gone
                if removed >= limit:
                    break
        return Removal(removed, left=bool(listing) or lagging)

    def _delete_chunk(
        self, layout: Layout, shard: Shard, chunk: list[str], counted: Counted
    ) -> int:
        dataset = (counted.dataset_id, counted.job_id)
        for _ in range(MAX_TX_ATTEMPTS):
            items = tasks_by_id(layout, chunk)
            if not items:
                return 0
            prelabels = prelabels_of(layout, list(items), keys_only=True)
            deltas: Counter[str] = Counter()
            tx = Transaction(self._connection)
            check_project(tx, layout, no_run=True)
            for task_id, item in items.items():
                state = LabelingState(item.state)
                deltas[STATE_COUNTER[state]] -= 1
                prelabel = prelabels.get(task_id)
                if prelabel is None:
                    deltas["eligible"] -= state is LabelingState.WAITING
                else:
                    done = outcome_of(prelabel.outcome_key) is PrelabelState.DONE
                    deltas["prelabeled" if done else "failed"] -= 1
                    tx.delete(("prelabel", task_id), prelabel)
                tx.delete(("task", task_id), item, condition=_unchanged(item))
            forget_reviews(tx, layout, list(items))
            tx.update(("counts", str(shard.n)), counts_item(shard), counter_actions(deltas))
            _count_in_dataset(tx, layout.ref, dataset, -len(items))
            if counted.slice is not None:
                tx.update(("job", ""), *progress_action(counted.job_id, counted.slice, len(items)))
            failed = _commit(tx, "delete dataset tasks")
            if not failed:
                return len(items)
            if ("project", "") in failed:
                raise refusal(
                    layout,
                    f"{RUN_ACTIVE}: its tasks stay until it ends; disconnect again once it has "
                    "ended",
                )
            if ("dataset", "") in failed:
                raise _dataset_taken(dataset)
            # A task moved meanwhile, or its reviewed labels were written or went: read again
            # and delete what is there now.
        raise StorageError("delete dataset tasks: the transaction kept failing")

    # --- reads ----------------------------------------------------------------------------

    def get(self, ref: ProjectRef, task_id: str) -> Task:
        layout = self.layouts.of(ref)
        item = tasks_by_id(layout, [task_id]).get(task_id)
        if item is None:
            raise NotFound(f"task {task_id!r} not found")
        return task_to_domain(item, prelabels_of(layout, [task_id]).get(task_id))

    def counts(self, ref: ProjectRef) -> ProjectCounts:
        return read_counts(self.layouts.of(ref))

    def ids_in_state(
        self, ref: ProjectRef, state: LabelingState, span: IdRange | None = None
    ) -> Iterator[str]:
        return ids_in_state(self.layouts.of(ref), state, span)

    def eligible_ids(self, ref: ProjectRef, run: int = ELIGIBLE_RUN) -> Iterator[str]:
        return eligible_ids(self.layouts.of(ref), run)

    def tasks_in_span(self, ref: ProjectRef, span: TaskSpan, *, labels: bool) -> Iterator[Task]:
        return tasks_in_span(self.layouts.of(ref), span, labels)

    def list_tasks(
        self, ref: ProjectRef, flt: TaskFilter, limit: int, cursor: str | None
    ) -> TaskPage:
        if flt.order is TaskOrder.REVIEW:
            return self._review_page(ref, limit, cursor)
        source = source_of(flt)
        after = self._cursors.decode(ref.key, source, cursor) if cursor else None
        tasks, last = read_page(self.layouts.of(ref), flt, limit, after)
        return TaskPage(tasks, self._cursors.encode(ref.key, source, last) if last else None)

    def get_many(self, ref: ProjectRef, task_ids: Sequence[str]) -> list[Task]:
        return joined(self.layouts.of(ref), task_ids)

    def prelabel_classes(self, ref: ProjectRef, after: str | None, limit: int) -> PrelabelClasses:
        return read_prelabel_classes(self.layouts.of(ref), after, limit)

    def _review_page(self, ref: ProjectRef, limit: int, cursor: str | None) -> TaskPage:
        position = None
        if cursor:
            # The cursor names its phase; the MAC binds it to that phase and this project.
            phase = REVIEW_REST if cursor.startswith(f"{REVIEW_REST}.") else REVIEW_QUEUED
            position = (phase, self._cursors.decode(ref.key, phase, cursor))
        tasks, after = read_review_page(self.layouts.of(ref), limit, position)
        return TaskPage(tasks, self._cursors.encode(ref.key, *after) if after else None)

    # --- moving a legacy project's tasks to shards ------------------------------------------

    def sharding(self, ref: ProjectRef) -> Sharding:
        layout = self.layouts.of(ref)
        return Sharding(layout.shards, layout.moving_job)

    def begin_resharding(self, ref: ProjectRef, job_id: str, taking_over: str | None) -> None:
        begin_resharding(ref, job_id, self._reshard_to, taking_over)

    def reshard_slice(self, ref: ProjectRef, job_id: str, limit: int) -> Removal:
        return self._resharder.slice(ref, job_id, limit)

    def end_resharding(self, ref: ProjectRef, job_id: str) -> None:
        self._resharder.end(ref, job_id)
