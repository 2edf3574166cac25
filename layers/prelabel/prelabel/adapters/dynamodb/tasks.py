"""Tasks on DynamoDB: task items, their pre-label items, the by-state index and the counters.

Every write that changes what the counters count (new tasks, moves, deletions) changes the
counters item in the same transaction, so the counters never drift from the items.
"""

from __future__ import annotations

import heapq
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from pynamodb.connection import Connection

from prelabel.adapters.dynamodb.counts import counter_actions, counts_item, read_counts
from prelabel.adapters.dynamodb.cursors import CursorCodec
from prelabel.adapters.dynamodb.errors import read_item, storage_errors
from prelabel.adapters.dynamodb.keys import (
    STATE_COUNTER,
    dataset_key,
    outcome_key,
    project_ref,
    state_key,
)
from prelabel.adapters.dynamodb.label_codec import decode_labels, decode_model
from prelabel.adapters.dynamodb.models import (
    DatasetModel,
    JobModel,
    PrelabelModel,
    ProjectModel,
    TaskModel,
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
from prelabel.ports.tasks import IdRange, Move, Removal, TaskFilter, TaskPage, TaskRepository

# Items per transaction: 90 task writes, the counters, and the dataset (imports), the
# project's no-active-run check (moves out of WAITING) or the job's progress (moves by a job)
# stay under DynamoDB's 100.
TASKS_PER_TX = 90
# Deleting a task also deletes its pre-label item: 30 of each, the counters, the dataset and
# the no-active-run check make 93 items.
DELETES_PER_TX = 30
MAX_TX_ATTEMPTS = 6
# Every task write changes the project's counters item in its transaction, so writes of one
# project meet there (a job, the API's moves, a run's commits): a conflict is tried again.
BUSY_ATTEMPTS = 5
BUSY_BACKOFF_S = 0.05


def task_to_domain(item: TaskModel, prelabel: PrelabelModel | None) -> Task:
    ref = project_ref(item.project_key)
    if prelabel is None:
        return Task(
            ref,
            item.task_id,
            item.dataset_id,
            item.bucket,
            item.image_key,
            LabelingState(item.state),
            created_at=item.created_at,
        )
    outcome = PrelabelState(prelabel.outcome_key.rsplit("#", 1)[-1])
    return Task(
        project=ref,
        task_id=item.task_id,
        dataset_id=item.dataset_id,
        bucket=item.bucket,
        image_key=item.image_key,
        state=LabelingState(item.state),
        prelabel_state=outcome,
        prelabel_reason=prelabel.reason,
        labels=decode_labels(item.task_id, prelabel.labels, decode_model(prelabel.model)),
        image_width=None if prelabel.width is None else int(prelabel.width),
        image_height=None if prelabel.height is None else int(prelabel.height),
        created_at=item.created_at,
        prelabel_run_id=prelabel.run_id,
    )


def _prelabels_of(ref: ProjectRef, task_ids: Sequence[str]) -> dict[str, PrelabelModel]:
    keys = [(outcome_key(ref, o), t) for t in task_ids for o in PrelabelState]
    if not keys:
        return {}
    with storage_errors("read pre-labels"):
        return {p.task_id: p for p in PrelabelModel.batch_get(keys, consistent_read=True)}


def _tasks_by_id(ref: ProjectRef, task_ids: Sequence[str]) -> dict[str, TaskModel]:
    if not task_ids:
        return {}
    with storage_errors("read tasks"):
        items = TaskModel.batch_get([(ref.key, t) for t in task_ids], consistent_read=True)
        return {t.task_id: t for t in items}


def _commit(tx: Transaction, what: str) -> list[tuple[str, str]]:
    """Commit; a transaction that met another on the counters item (TransactionConflict:
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


def _check_no_active_run(tx: Transaction, ref: ProjectRef) -> None:
    """The transaction fails at ("project", "") if a run is active: a run's tasks stay as they
    were when it started."""
    tx.check(
        ("project", ""),
        ProjectModel,
        ref.org_id,
        ref.project_id,
        ProjectModel.active_run_id.does_not_exist(),
    )


def _dataset_taken(dataset: tuple[str, str] | None) -> Conflict:
    dataset_id, job_id = dataset or ("?", "?")
    return Conflict(f"dataset {dataset_id} is no longer worked on by job {job_id}")


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _merge_without(source: Iterable[str], *excluded: Iterable[str]) -> Iterator[str]:
    """Ids of `source` in none of `excluded`; every input sorted, one pass, constant memory."""
    others = heapq.merge(*excluded)
    current = next(others, None)
    for task_id in source:
        while current is not None and current < task_id:
            current = next(others, None)
        if current != task_id:
            yield task_id


class DynamoTaskRepository(TaskRepository):
    def __init__(self, connection: Connection, cursor_key: bytes) -> None:
        self._connection = connection
        self._cursors = CursorCodec(cursor_key)

    # --- writes ---------------------------------------------------------------------------

    def add_many(self, tasks: Sequence[Task]) -> None:
        by_project: dict[ProjectRef, list[Task]] = {}
        for task in tasks:
            by_project.setdefault(task.project, []).append(task)
        for ref, group in by_project.items():
            for start in range(0, len(group), TASKS_PER_TX):
                self._add_chunk(ref, group[start : start + TASKS_PER_TX], None)

    def add_dataset_tasks(
        self, ref: ProjectRef, dataset_id: str, job_id: str, tasks: Sequence[Task]
    ) -> int:
        if any(t.project != ref or t.dataset_id != dataset_id for t in tasks):
            raise ValueError(f"every task must be of dataset {dataset_id} of {ref.key}")
        added = 0
        for start in range(0, len(tasks), TASKS_PER_TX):
            chunk = list(tasks[start : start + TASKS_PER_TX])
            added += self._add_chunk(ref, chunk, (dataset_id, job_id))
        return added

    def _add_chunk(
        self, ref: ProjectRef, chunk: list[Task], dataset: tuple[str, str] | None
    ) -> int:
        pending = list({t.task_id: t for t in chunk}.values())
        for _ in range(MAX_TX_ATTEMPTS):
            deltas: Counter[str] = Counter(STATE_COUNTER[t.state] for t in pending)
            deltas["eligible"] = sum(1 for t in pending if t.state is LabelingState.WAITING)
            tx = Transaction(self._connection)
            for t in pending:
                tx.put(
                    ("task", t.task_id),
                    TaskModel(
                        ref.key,
                        t.task_id,
                        dataset_id=t.dataset_id,
                        dataset_key=dataset_key(ref, t.dataset_id),
                        bucket=t.bucket,
                        image_key=t.image_key,
                        state=t.state.value,
                        state_key=state_key(ref, t.state),
                        created_at=t.created_at,
                    ),
                    condition=TaskModel.task_id.does_not_exist(),
                )
            tx.update(("counts", ""), counts_item(ref), counter_actions(deltas))
            if dataset is not None:
                _count_in_dataset(tx, ref, dataset, len(pending))
            failed = _commit(tx, "create tasks")
            if not failed:
                return len(pending)
            if ("dataset", "") in failed:
                raise _dataset_taken(dataset)
            # A task id that exists was written by an earlier attempt of the same import (ids
            # are derived from the image): it is counted already, so the rest go without it.
            existing = {ident for kind, ident in failed if kind == "task"}
            pending = [t for t in pending if t.task_id not in existing]
            if not pending:
                return 0
        raise StorageError("create tasks: the transaction kept failing")

    def move(self, ref: ProjectRef, task_ids: Sequence[str], move: Move) -> list[str]:
        moved: list[str] = []
        for chunk in _chunks(list(dict.fromkeys(task_ids)), TASKS_PER_TX):
            moved += self._move_chunk(ref, chunk, move)
        return moved

    def _move_chunk(self, ref: ProjectRef, chunk: list[str], move: Move) -> list[str]:
        source, target, job_id = move.source, move.target, move.job_id
        for _ in range(MAX_TX_ATTEMPTS):
            items = _tasks_by_id(ref, chunk)
            pending = [t for t in chunk if t in items and items[t].state == source.value]
            if not pending:
                return []
            unlabeled = len(pending) - len(_prelabels_of(ref, pending))
            deltas = {STATE_COUNTER[source]: -len(pending), STATE_COUNTER[target]: len(pending)}
            if LabelingState.WAITING in (source, target):
                deltas["eligible"] = unlabeled if target is LabelingState.WAITING else -unlabeled
            tx = Transaction(self._connection)
            if source is LabelingState.WAITING:
                _check_no_active_run(tx, ref)
            for task_id in pending:
                tx.update(
                    ("task", task_id),
                    TaskModel(ref.key, task_id),
                    [
                        TaskModel.state.set(target.value),
                        TaskModel.state_key.set(state_key(ref, target)),
                    ],
                    condition=TaskModel.state == source.value,
                )
            tx.update(("counts", ""), counts_item(ref), counter_actions(deltas))
            if job_id is not None:
                tx.update(
                    ("job", ""),
                    JobModel(ref.key, job_id),
                    [JobModel.done.add(len(pending))],
                    condition=JobModel.job_id.exists(),
                )
            failed = _commit(tx, "move tasks")
            if not failed:
                return pending
            if ("project", "") in failed:
                raise Conflict(
                    f"tasks cannot leave {source.value} while a pre-labeling run is active; "
                    "stop the run first"
                )
            if ("job", "") in failed:
                raise NotFound(f"job {job_id!r} not found")
            # A task changed meanwhile: read again and move what is still in `source`.
        raise StorageError("move tasks: the transaction kept failing")

    def delete_dataset_tasks(
        self, ref: ProjectRef, dataset_id: str, job_id: str, limit: int
    ) -> Removal:
        removed = 0
        while removed < limit:
            with storage_errors("list dataset tasks"):
                ids = [
                    k.task_id
                    for k in TaskModel.by_dataset.query(
                        dataset_key(ref, dataset_id), limit=DELETES_PER_TX
                    )
                ]
            if not ids:
                return Removal(removed, left=False)
            gone = self._delete_chunk(ref, ids, (dataset_id, job_id))
            if not gone:
                # The index still lists them for a moment after their deletion: the next
                # call goes on from there.
                return Removal(removed, left=True)
            removed += gone
        return Removal(removed, left=True)

    def _delete_chunk(self, ref: ProjectRef, chunk: list[str], dataset: tuple[str, str]) -> int:
        for _ in range(MAX_TX_ATTEMPTS):
            items = _tasks_by_id(ref, chunk)
            prelabels = _prelabels_of(ref, list(items))
            if not items:
                return 0
            deltas: Counter[str] = Counter()
            tx = Transaction(self._connection)
            _check_no_active_run(tx, ref)
            for task_id, item in items.items():
                state = LabelingState(item.state)
                deltas[STATE_COUNTER[state]] -= 1
                prelabel = prelabels.get(task_id)
                if prelabel is None:
                    deltas["eligible"] -= state is LabelingState.WAITING
                else:
                    outcome = prelabel.outcome_key.rsplit("#", 1)[-1]
                    deltas["prelabeled" if outcome == PrelabelState.DONE else "failed"] -= 1
                    tx.delete(("prelabel", task_id), prelabel)
                tx.delete(("task", task_id), item, condition=TaskModel.state == item.state)
            tx.update(("counts", ""), counts_item(ref), counter_actions(deltas))
            _count_in_dataset(tx, ref, dataset, -len(items))
            failed = _commit(tx, "delete dataset tasks")
            if not failed:
                return len(items)
            if ("project", "") in failed:
                raise Conflict(
                    "a pre-labeling run is active: its tasks stay until it ends; disconnect "
                    "again once it has ended"
                )
            if ("dataset", "") in failed:
                raise _dataset_taken(dataset)
            # A task moved meanwhile: read again and delete with its new state.
        raise StorageError("delete dataset tasks: the transaction kept failing")

    # --- reads ----------------------------------------------------------------------------

    def get(self, ref: ProjectRef, task_id: str) -> Task:
        missing = f"task {task_id!r} not found"
        item = read_item(TaskModel, ref.key, task_id, what="read task", missing=missing)
        return task_to_domain(item, _prelabels_of(ref, [task_id]).get(task_id))

    def counts(self, ref: ProjectRef) -> ProjectCounts:
        return read_counts(ref)

    def ids_in_state(
        self, ref: ProjectRef, state: LabelingState, span: IdRange | None = None
    ) -> Iterator[str]:
        after, limit = (span.after, span.limit) if span else (None, None)
        key = state_key(ref, state)
        start = (
            {"state_key": {"S": key}, "project_key": {"S": ref.key}, "task_id": {"S": after}}
            if after
            else None
        )
        with storage_errors("list tasks by state"):
            for item in TaskModel.by_state.query(
                key,
                last_evaluated_key=start,
                limit=limit,
                page_size=min(limit, 1000) if limit else None,
            ):
                yield item.task_id

    def _outcome_ids(self, ref: ProjectRef, outcome: PrelabelState) -> Iterator[str]:
        with storage_errors("list pre-labels"):
            for item in PrelabelModel.query(
                outcome_key(ref, outcome), attributes_to_get=["task_id"]
            ):
                yield item.task_id

    def eligible_ids(self, ref: ProjectRef) -> Iterator[str]:
        # Tasks never carry their pre-label, so eligibility is WAITING minus pre-labeled: two
        # sorted key streams merged, read once per run (a read unit covers ~40 such keys).
        return _merge_without(
            self.ids_in_state(ref, LabelingState.WAITING),
            self._outcome_ids(ref, PrelabelState.DONE),
            self._outcome_ids(ref, PrelabelState.FAILED),
        )

    def list_tasks(
        self, ref: ProjectRef, flt: TaskFilter, limit: int, cursor: str | None
    ) -> TaskPage:
        source = self._source(flt)
        after = self._cursors.decode(ref.key, source, cursor) if cursor else None
        ids = self._source_ids(ref, flt, source, after, page_size=max(limit, 25))
        tasks: list[Task] = []
        last: str | None = None
        for chunk in _chunks(ids, max(limit, 25)):
            for task in self._joined(ref, chunk):
                if _matches(task, flt):
                    tasks.append(task)
            last = chunk[-1]
            if len(tasks) >= limit:
                break
        if len(tasks) > limit:
            last = tasks[limit - 1].task_id
            tasks = tasks[:limit]
        more = last is not None and len(tasks) == limit and self._has_after(ref, flt, source, last)
        return TaskPage(
            tasks, self._cursors.encode(ref.key, source, last) if more and last else None
        )

    @staticmethod
    def _source(flt: TaskFilter) -> str:
        """The narrowest stored list that holds the filter's tasks."""
        if flt.prelabeled is True:
            return "done"
        if flt.dataset_id is not None:
            return "dataset"
        if flt.state is not None:
            return "state"
        return "all"

    def _source_ids(
        self, ref: ProjectRef, flt: TaskFilter, source: str, after: str | None, page_size: int
    ) -> Iterator[str]:
        query, key, start_key, only_ids = self._source_query(ref, flt, source)
        start = {**start_key, "task_id": {"S": after}} if after else None
        options: dict[str, Any] = {"attributes_to_get": ["task_id"]} if only_ids else {}
        with storage_errors("list tasks"):
            for item in query(key, last_evaluated_key=start, page_size=page_size, **options):
                yield item.task_id

    @staticmethod
    def _source_query(
        ref: ProjectRef, flt: TaskFilter, source: str
    ) -> tuple[Callable[..., Iterable[Any]], str, dict[str, Any], bool]:
        """The query of a stored list, its partition key, the key attributes a page's start
        names besides the task id, and whether the items hold more than their keys."""
        if source == "done":
            key = outcome_key(ref, PrelabelState.DONE)
            return PrelabelModel.query, key, {"project_key": {"S": key}}, True
        if source == "dataset":
            assert flt.dataset_id is not None
            key = dataset_key(ref, flt.dataset_id)
            start = {"dataset_key": {"S": key}, "project_key": {"S": ref.key}}
            return TaskModel.by_dataset.query, key, start, False
        if source == "state":
            assert flt.state is not None
            key = state_key(ref, flt.state)
            start = {"state_key": {"S": key}, "project_key": {"S": ref.key}}
            return TaskModel.by_state.query, key, start, False
        return TaskModel.query, ref.key, {"project_key": {"S": ref.key}}, True

    def _joined(self, ref: ProjectRef, task_ids: Sequence[str]) -> list[Task]:
        items = _tasks_by_id(ref, task_ids)
        prelabels = _prelabels_of(ref, list(items))
        return [task_to_domain(items[t], prelabels.get(t)) for t in task_ids if t in items]

    def _has_after(self, ref: ProjectRef, flt: TaskFilter, source: str, last: str) -> bool:
        return next(self._source_ids(ref, flt, source, last, page_size=1), None) is not None


def _matches(task: Task, flt: TaskFilter) -> bool:
    if flt.state is not None and task.state is not flt.state:
        return False
    if flt.prelabeled is not None and task.prelabeled is not flt.prelabeled:
        return False
    return flt.dataset_id is None or task.dataset_id == flt.dataset_id
