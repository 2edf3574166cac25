"""Reviewed labels on DynamoDB: one item per task in its shard's partition `<project>#rv#<n>`,
and per shard a count of them changed in the same transactions (keys.py, shards.py).

A write reads what each task has first (its job and source image), then puts each task's item
with a condition that it is still what was read, in transactions of up to 30 tasks with the
counters of their shards: a concurrent writer makes the transaction fail and the chunk is read
and tried again, so the counts never drift from the items. The same transaction sets the task
item's `reviewed_job`, on condition that the task is there: labels of a task deleted meanwhile
(its dataset disconnected) are not written (`ReviewWrite.gone`), and a deletion that read the
task before this write fails on it and reads again, so no reviewed item outlives its task.

A project moved to shards after its reviewed labels were written still has them under the
unnumbered key: reads look there too, and a write moves a task's item to its shard (a delete
in the same transaction).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from pynamodb.connection import Connection
from pynamodb.expressions.condition import Condition

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.keys import COUNTS_ITEM, Shard
from prelabel.adapters.dynamodb.models import ReviewedCountsModel, ReviewedModel, TaskModel
from prelabel.adapters.dynamodb.reviewed_codec import decode_boxes, encode_boxes
from prelabel.adapters.dynamodb.reviewed_items import (
    counts_update,
    partitions,
    read_reviews,
)
from prelabel.adapters.dynamodb.shards import Layout, Layouts, pack
from prelabel.adapters.dynamodb.task_lists import shard_page
from prelabel.adapters.dynamodb.tasks import check_project, refusal
from prelabel.adapters.dynamodb.transact import Transaction
from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import Busy, StorageError
from prelabel.domain.reviewed_labels import ReviewedCount, ReviewWrite, TaskReview
from prelabel.ports.reviewed_labels import ReviewedLabelStore, ReviewPage

# A transaction: per task a put, its task's update and at most one delete (an item left under a
# legacy key), the counters items of up to 8 shards and the legacy one, and the project check:
# at most 100.
REVIEWS_PER_TX = 30
SHARDS_PER_TX = 8
MAX_ATTEMPTS = 6
WRITE_REFUSED = "reviewed labels cannot be written now"


def to_review(item: ReviewedModel) -> TaskReview:
    return TaskReview(
        task_id=item.task_id,
        boxes=decode_boxes(item.labels),
        format=item.format,
        job_id=item.job_id,
        imported_at=item.imported_at,
        source=int(item.source),
        dropped=int(item.dropped or 0),
    )


def reviewed_item(shard: Shard, r: TaskReview) -> ReviewedModel:
    return ReviewedModel(
        shard.reviewed_key,
        r.task_id,
        labels=encode_boxes(r.boxes),
        format=r.format,
        job_id=r.job_id,
        imported_at=r.imported_at,
        source=r.source,
        dropped=r.dropped,
    )


@dataclass
class _Chunk:
    """One transaction's worth of reviews, what was found for them, and what it will do."""

    tx: Transaction
    counts: dict[Shard, Counter[str]] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    def count(self, shard: Shard, tasks: int) -> None:
        deltas = self.counts.setdefault(shard, Counter())
        deltas["tasks"] += tasks


class DynamoReviewedLabels(ReviewedLabelStore):
    def __init__(self, connection: Connection, layouts: Layouts | None = None) -> None:
        self._connection = connection
        self._layouts = layouts or Layouts()

    def put(self, ref: ProjectRef, reviews: Sequence[TaskReview]) -> ReviewWrite:
        layout = self._layouts.of(ref)
        by_id = {r.task_id: r for r in reviews}
        if len(by_id) != len(reviews):
            raise ValueError("one review per task id")
        done = ReviewWrite()
        for groups in pack(layout.group(by_id), REVIEWS_PER_TX, SHARDS_PER_TX):
            chunk = [(shard, [by_id[t] for t in ids]) for shard, ids in groups]
            part = self._put_chunk(layout, chunk)
            done = ReviewWrite(
                done.written + part.written,
                done.kept + part.kept,
                done.duplicates + part.duplicates,
                done.gone + part.gone,
            )
        return done

    def _put_chunk(
        self, layout: Layout, chunk: list[tuple[Shard, list[TaskReview]]]
    ) -> ReviewWrite:
        gone: list[str] = []
        for _ in range(MAX_ATTEMPTS):
            plan = self._plan(layout, chunk)
            if not plan.written:  # each task kept, a duplicate or gone: nothing to write
                return ReviewWrite((), tuple(plan.kept), tuple(plan.duplicates), tuple(gone))
            try:
                failed = plan.tx.commit("write reviewed labels")
            except Busy:
                continue  # a concurrent transaction held a counters item: nothing was written
            if ("project", "") in failed:
                raise refusal(layout, WRITE_REFUSED)
            if not failed:
                written = tuple(plan.written)
                return ReviewWrite(written, tuple(plan.kept), tuple(plan.duplicates), tuple(gone))
            # A task was deleted meanwhile: leave it out. Another writer changed a task's
            # reviewed labels: read again.
            removed = {tag[1] for tag in failed if tag[0] == "task"}
            gone += sorted(removed)
            chunk = [(s, [r for r in rs if r.task_id not in removed]) for s, rs in chunk]
        raise StorageError("write reviewed labels: the transaction kept failing")

    def _plan(self, layout: Layout, chunk: list[tuple[Shard, list[TaskReview]]]) -> _Chunk:
        found: dict[str, list[ReviewedModel]] = {}
        ids = [r.task_id for _, rs in chunk for r in rs]
        for item in read_reviews(layout, ids, keys_only=True):
            found.setdefault(item.task_id, []).append(item)
        plan = _Chunk(Transaction(self._connection))
        for home, reviews in chunk:
            for review in reviews:
                self._plan_one(plan, home, review, found.get(review.task_id, []))
        for shard, deltas in plan.counts.items():
            counts_update(plan.tx, shard, deltas["tasks"], deltas["changes"])
        check_project(plan.tx, layout, no_run=False)
        return plan

    @staticmethod
    def _plan_one(
        plan: _Chunk, home: Shard, review: TaskReview, found: list[ReviewedModel]
    ) -> None:
        at_home = next((i for i in found if i.reviewed_key == home.reviewed_key), None)
        if at_home is not None and at_home.job_id == review.job_id:
            mine = int(at_home.source) == review.source
            (plan.kept if mine else plan.duplicates).append(review.task_id)
            return
        unchanged: Condition = ReviewedModel.task_id.does_not_exist()
        if at_home is not None:
            unchanged = (ReviewedModel.job_id == at_home.job_id) & (
                ReviewedModel.source == at_home.source
            )
        plan.tx.put(("review", review.task_id), reviewed_item(home, review), condition=unchanged)
        plan.tx.update(
            ("task", review.task_id),
            TaskModel(home.tasks_key, review.task_id),
            [TaskModel.reviewed_job.set(review.job_id)],
            condition=TaskModel.task_id.exists(),
        )
        plan.count(home, 0 if at_home is not None else 1)
        plan.counts[home]["changes"] += 1
        for other in found:
            if other is not at_home:  # left under a legacy key: it moves home
                plan.tx.delete(
                    ("moved", other.task_id), other, condition=ReviewedModel.task_id.exists()
                )
                plan.count(Shard(home.ref, None), -1)
        plan.written.append(review.task_id)

    def get_many(self, ref: ProjectRef, task_ids: Sequence[str]) -> dict[str, TaskReview]:
        layout = self._layouts.of(ref)
        legacy = layout.legacy.reviewed_key
        found: dict[str, TaskReview] = {}
        for item in read_reviews(layout, task_ids, keys_only=False):
            # A task's item under its shard wins over one left under the legacy key.
            if item.task_id not in found or item.reviewed_key != legacy:
                found[item.task_id] = to_review(item)
        return found

    def page(self, ref: ProjectRef, after: str | None, limit: int) -> ReviewPage:
        layout = self._layouts.of(ref)
        shards = partitions(layout)
        size = shard_page(limit, len(shards))
        streams = [_items_after(s, after, size) for s in shards]
        reviews: list[TaskReview] = []
        merged = heapq.merge(*streams, key=lambda i: i.task_id)
        for item in merged:
            if reviews and reviews[-1].task_id == item.task_id:
                continue  # the same task under a legacy key and its shard, for a moment
            reviews.append(to_review(item))
            if len(reviews) == limit:
                more = next(merged, None) is not None
                return ReviewPage(reviews, reviews[-1].task_id if more else None)
        return ReviewPage(reviews, None)

    def count(self, ref: ProjectRef) -> ReviewedCount:
        layout = self._layouts.of(ref)
        keys = [(s.reviewed_counts_key, COUNTS_ITEM) for s in partitions(layout)]
        tasks = changes = 0
        with storage_errors("read reviewed-label counts"):
            for item in ReviewedCountsModel.batch_get(keys, consistent_read=True):
                tasks += int(item.tasks or 0)
                changes += int(item.changes or 0)
        return ReviewedCount(tasks, changes)


def _items_after(shard: Shard, after: str | None, page_size: int) -> Iterator[ReviewedModel]:
    key = shard.reviewed_key
    start = {"project_key": {"S": key}, "task_id": {"S": after}} if after else None
    with storage_errors("list reviewed labels"):
        yield from ReviewedModel.query(
            key, last_evaluated_key=start, page_size=page_size, consistent_read=True
        )
