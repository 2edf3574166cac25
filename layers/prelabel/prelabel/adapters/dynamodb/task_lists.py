"""Lists of a project's tasks read from its shards: pages, the ids of a state, the eligible ids.

Every stored list (a shard's task partition, its by-state and by-dataset index partitions, its
pre-label partitions) is sorted by task id, so the N sorted queries of a list merge into one
sorted list. A page's cursor is then the last task id it showed: in a merge by id, each shard's
position is "after that id", so one sealed id carries every shard's position, and a legacy
project's cursors stay valid.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.keys import Shard
from prelabel.adapters.dynamodb.models import PrelabelModel, TaskModel
from prelabel.adapters.dynamodb.shards import Layout, merged
from prelabel.adapters.dynamodb.task_items import joined, prelabels_of, task_to_domain
from prelabel.domain.entities import LabelingState, PrelabelState, Task
from prelabel.ports.tasks import IdRange, TaskFilter, TaskSpan

T = TypeVar("T")
# The most ids one query of a list returns at once.
MAX_PAGE = 1000


def shard_page(wanted: int, shards: int) -> int:
    """Ids to ask each of `shards` sorted lists for, when their merge must give `wanted`: a
    shard's share with room for the unevenness of a hash (a shard that runs short asks for
    its next page, so this bounds requests, not correctness)."""
    return min(wanted, MAX_PAGE, math.ceil(2 * wanted / shards) + 2)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def merge_without(source: Iterable[str], *excluded: Iterable[str]) -> Iterator[str]:
    """Ids of `source` in none of `excluded`; every input sorted, one pass, constant memory."""
    others = heapq.merge(*excluded)
    current = next(others, None)
    for task_id in source:
        while current is not None and current < task_id:
            current = next(others, None)
        if current != task_id:
            yield task_id


def source_of(flt: TaskFilter) -> str:
    """The narrowest stored list that holds the filter's tasks."""
    if flt.prelabeled is True:
        return "done"
    if flt.dataset_id is not None:
        return "dataset"
    if flt.state is not None:
        return "state"
    return "all"


def _source_query(
    shard: Shard, flt: TaskFilter, source: str
) -> tuple[Callable[..., Iterable[Any]], str, dict[str, Any], bool]:
    """The query of a shard's stored list, its partition key, the key attributes a page's
    start names besides the task id, and whether the items hold more than their keys."""
    task_key = {"project_key": {"S": shard.tasks_key}}
    if source == "done":
        key = shard.outcome_key(PrelabelState.DONE)
        return PrelabelModel.query, key, {"project_key": {"S": key}}, True
    if source == "dataset":
        assert flt.dataset_id is not None
        key = shard.dataset_key(flt.dataset_id)
        return TaskModel.by_dataset.query, key, {"dataset_key": {"S": key}, **task_key}, False
    if source == "state":
        assert flt.state is not None
        key = shard.state_key(flt.state)
        return TaskModel.by_state.query, key, {"state_key": {"S": key}, **task_key}, False
    return TaskModel.query, shard.tasks_key, task_key, True


def _shard_ids(
    shard: Shard, flt: TaskFilter, source: str, after: str | None, page_size: int
) -> Iterator[str]:
    query, key, start_key, only_ids = _source_query(shard, flt, source)
    start = {**start_key, "task_id": {"S": after}} if after else None
    options: dict[str, Any] = {"attributes_to_get": ["task_id"]} if only_ids else {}
    with storage_errors("list tasks"):
        for item in query(key, last_evaluated_key=start, page_size=page_size, **options):
            yield item.task_id


def _matches(task: Task, flt: TaskFilter) -> bool:
    if flt.state is not None and task.state is not flt.state:
        return False
    if flt.prelabeled is not None and task.prelabeled is not flt.prelabeled:
        return False
    return flt.dataset_id is None or task.dataset_id == flt.dataset_id


def read_page(
    layout: Layout, flt: TaskFilter, limit: int, after: str | None
) -> tuple[list[Task], str | None]:
    """Up to `limit` tasks after `after` that match the filter, and the id the next page
    starts after (None: this is the last page)."""
    source = source_of(flt)
    size = max(limit, 25)
    shards = layout.stored()
    per_shard = shard_page(size, len(shards))
    ids = merged([_shard_ids(s, flt, source, after, per_shard) for s in shards])
    tasks: list[Task] = []
    last: str | None = None
    for chunk in chunks(ids, size):
        tasks += [t for t in joined(layout, chunk) if _matches(t, flt)]
        last = chunk[-1]
        if len(tasks) >= limit:
            break
    if len(tasks) > limit:
        return tasks[:limit], tasks[limit - 1].task_id
    more = last is not None and len(tasks) == limit and next(ids, None) is not None
    return tasks, last if more else None


def _state_ids(
    shard: Shard,
    state: LabelingState,
    after: str | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> Iterator[str]:
    key = shard.state_key(state)
    start = (
        {"state_key": {"S": key}, "project_key": {"S": shard.tasks_key}, "task_id": {"S": after}}
        if after
        else None
    )
    with storage_errors("list tasks by state"):
        for item in TaskModel.by_state.query(
            key, last_evaluated_key=start, limit=limit, page_size=page
        ):
            yield item.task_id


def ids_in_state(layout: Layout, state: LabelingState, span: IdRange | None) -> Iterator[str]:
    after, limit = (span.after, span.limit) if span else (None, None)
    shards = layout.part(span.part if span else None)
    page = shard_page(limit, len(shards)) if limit else None
    ids = merged([_state_ids(s, state, after, limit, page) for s in shards])
    return islice(ids, limit) if limit else ids


def _outcome_ids(shard: Shard, outcome: PrelabelState) -> Iterator[str]:
    key = shard.outcome_key(outcome)
    with storage_errors("list pre-labels"):
        for item in PrelabelModel.query(key, attributes_to_get=["task_id"], page_size=MAX_PAGE):
            yield item.task_id


def _eligible_of(shard: Shard) -> Iterator[str]:
    """A shard's WAITING minus its pre-labeled: three sorted key streams merged, read once per
    run (a read unit covers ~40 such keys)."""
    return merge_without(
        _state_ids(shard, LabelingState.WAITING, page=MAX_PAGE),
        _outcome_ids(shard, PrelabelState.DONE),
        _outcome_ids(shard, PrelabelState.FAILED),
    )


def eligible_ids(layout: Layout, run: int) -> Iterator[str]:
    """`run` ids of one shard at a time, the shards in turn, then each shard's remainder: a
    run's batches of `run` each write one shard's pre-labels and counters, and consecutive
    batches (which the workflow runs at the same time) write different shards."""
    streams = [_eligible_of(s) for s in layout.stored()]
    rest: list[str] = []
    while streams:
        for stream in list(streams):
            chunk = list(islice(stream, run))
            if len(chunk) < run:
                rest += chunk
                streams.remove(stream)
            else:
                yield from chunk
    yield from rest


def _span_items(shard: Shard, span: TaskSpan) -> Iterator[TaskModel]:
    condition = None if span.first is None else TaskModel.task_id >= span.first
    with storage_errors("list tasks"):
        for item in TaskModel.query(
            shard.tasks_key, range_key_condition=condition, page_size=MAX_PAGE
        ):
            if span.before is not None and item.task_id >= span.before:
                return
            yield item


def tasks_in_span(layout: Layout, span: TaskSpan, labels: bool) -> Iterator[Task]:
    """Each shard's task partition read from `span.first` on (whole items, a query page at a
    time), merged by id, until `span.before`; the pre-labels of each chunk read by id (one
    BatchGet per 100 tasks) when `labels`."""
    items = heapq.merge(*(_span_items(s, span) for s in layout.stored()), key=lambda i: i.task_id)
    for chunk in chunks(items, 100):
        prelabels = prelabels_of(layout, [i.task_id for i in chunk]) if labels else {}
        yield from (task_to_domain(i, prelabels.get(i.task_id)) for i in chunk)
