"""The review queue: a project's pre-labeled tasks in review order (prelabel.quality.priority).

Tasks ahead of "the rest" are in the sparse keys-only index `review-queue` (models.
ReviewQueueIndex), one partition per shard, sorted by `q` = priority key + task id, written with
the pre-label in the batch's commit. A page merges the N shards' index queries by `q` (the
key's fixed width makes string order the priority order, the task id makes each unique), then
joins the page's tasks. Once the index is exhausted, the rest follow in task-id order from the
shards' DONE pre-label partitions, skipping the queued ones.

Positions: ("review", q of the last task shown) while in the index, ("reviewrest", its task id)
after; each is sealed into the page's cursor. A page of the index reads N small queries and the
page's tasks, whatever the project's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.keys import Shard
from prelabel.adapters.dynamodb.label_codec import entry_counts
from prelabel.adapters.dynamodb.models import PrelabelModel
from prelabel.adapters.dynamodb.shards import Layout, merged
from prelabel.adapters.dynamodb.task_items import joined
from prelabel.adapters.dynamodb.task_lists import MAX_PAGE, shard_page
from prelabel.domain.entities import Task
from prelabel.ports.tasks import PrelabelClasses
from prelabel.quality.priority import KEY_DIGITS, ReviewPriority

QUEUED = "review"
REST = "reviewrest"
# Pre-labels a query of the rest reads at once: most may be queued ones it skips (a filter
# does not lower what a query reads, only what it returns).
REST_SCAN = 100

Position = tuple[str, str]


def queue_entry(priority: ReviewPriority, task_id: str) -> str | None:
    """The index's sort key for a pre-label, or None: not queued, so not in the index."""
    return f"{priority.key}{task_id}" if priority.queued else None


def _queued(shard: Shard, after: str | None, page: int) -> Iterator[str]:
    condition = PrelabelModel.review > after if after else None
    with storage_errors("list the review queue"):
        for item in PrelabelModel.review_queue.query(
            shard.review_key, range_key_condition=condition, page_size=page
        ):
            yield item.review


def _rest(shard: Shard, after: str | None, page: int) -> Iterator[str]:
    condition = PrelabelModel.task_id > after if after else None
    with storage_errors("list pre-labeled tasks"):
        for item in PrelabelModel.query(
            shard.review_key,
            range_key_condition=condition,
            filter_condition=PrelabelModel.review.does_not_exist(),
            attributes_to_get=["task_id"],
            page_size=page,
        ):
            yield item.task_id


def _take(
    layout: Layout, entries: Iterator[tuple[str, str]], limit: int
) -> tuple[list[Task], str | None, bool]:
    """Up to `limit` tasks of `entries` ((position, task id), in order), the position of the
    last one read, and whether entries remain after it."""
    tasks: list[Task] = []
    last: str | None = None
    while len(tasks) < limit:
        chunk = list(islice(entries, limit - len(tasks)))
        if not chunk:
            return tasks, last, False
        found = {t.task_id: t for t in joined(layout, [task_id for _, task_id in chunk])}
        tasks += [found[task_id] for _, task_id in chunk if task_id in found]
        last = chunk[-1][0]
    return tasks, last, next(entries, None) is not None


def read_review_page(
    layout: Layout, limit: int, position: Position | None
) -> tuple[list[Task], Position | None]:
    """Up to `limit` pre-labeled tasks in review order after `position` (None: the first
    page), and the position the next page starts after (None: this was the last)."""
    shards = layout.stored()
    phase, after = position or (QUEUED, None)
    tasks: list[Task] = []
    if phase == QUEUED:
        page = shard_page(limit + 1, len(shards))
        keys = merged([_queued(s, after, page) for s in shards])
        tasks, last, more = _take(layout, ((q, q[KEY_DIGITS:]) for q in keys), limit)
        if last is not None and (more or len(tasks) == limit):
            # The index goes on, or ends with this page: then a next page only if a rest does.
            go_on = more or next(merged([_rest(s, None, REST_SCAN) for s in shards]), None)
            return tasks, (QUEUED, last) if go_on else None
        phase, after = REST, None
    wanted = limit - len(tasks)
    page = max(shard_page(wanted + 1, len(shards)), REST_SCAN)
    ids = merged([_rest(s, after, page) for s in shards])
    rest, last, more = _take(layout, ((t, t) for t in ids), wanted)
    return tasks + rest, (REST, last) if more and last is not None else None


def _done_labels(shard: Shard, after: str | None, page: int) -> Iterator[tuple[str, str]]:
    condition = PrelabelModel.task_id > after if after else None
    with storage_errors("read pre-labels"):
        for item in PrelabelModel.query(
            shard.review_key,
            range_key_condition=condition,
            attributes_to_get=["task_id", PrelabelModel.labels.attr_name],
            page_size=page,
        ):
            yield item.task_id, item.labels or ""


def read_prelabel_classes(layout: Layout, after: str | None, limit: int) -> PrelabelClasses:
    """A slice of the pass over the pre-labels a review sample makes: the shards' DONE
    partitions merged in task-id order, each pre-label's boxes counted per entry."""
    shards = layout.stored()
    rows = merged([_done_labels(s, after, min(limit, MAX_PAGE)) for s in shards])
    tasks = [(task_id, entry_counts(text)) for task_id, text in islice(rows, limit)]
    more = len(tasks) == limit and next(rows, None) is not None
    return PrelabelClasses(tasks, tasks[-1][0] if more else None)
