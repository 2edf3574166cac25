"""Where a task's reviewed-label items are, read by key, and their removal with the tasks
they belong to: the tasks adapter's deletions and the reviewed-label adapter share these.

A task's reviewed labels are one item in its shard's partition `<project>#rv#<n>`; a project
moved to shards after they were written still has them under the unnumbered key until the next
write of that task. Each partition's counters item (`<project>#rvcounts#<n>`) counts its items
and the writes to them, changed in the same transaction as the items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.keys import COUNTS_ITEM, Shard
from prelabel.adapters.dynamodb.models import ReviewedCountsModel, ReviewedModel
from prelabel.adapters.dynamodb.shards import Layout
from prelabel.adapters.dynamodb.transact import Transaction

_KEY_ATTRS = ["project_key", "task_id", "j", "s"]


def places(layout: Layout, task_id: str) -> tuple[Shard, ...]:
    """Where a task's reviewed labels may be: where its task is, and the unnumbered partition
    of a project that was moved to shards since."""
    found = layout.places(task_id)
    return found if layout.legacy in found else (*found, layout.legacy)


def partitions(layout: Layout) -> tuple[Shard, ...]:
    stored = layout.stored()
    return stored if layout.legacy in stored else (*stored, layout.legacy)


def read_reviews(layout: Layout, task_ids: Sequence[str], keys_only: bool) -> list[ReviewedModel]:
    keys = list(dict.fromkeys((s.reviewed_key, t) for t in task_ids for s in places(layout, t)))
    if not keys:
        return []
    options: dict[str, Any] = {"attributes_to_get": _KEY_ATTRS} if keys_only else {}
    with storage_errors("read reviewed labels"):
        return list(ReviewedModel.batch_get(keys, consistent_read=True, **options))


def counts_update(tx: Transaction, shard: Shard, tasks: int, changes: int) -> None:
    """The partition's counters in `tx`: `tasks` items more (or fewer), `changes` writes more."""
    counter = ReviewedCountsModel(shard.reviewed_counts_key, COUNTS_ITEM)
    actions = [ReviewedCountsModel.tasks.add(tasks)]
    if changes:
        actions.append(ReviewedCountsModel.changes.add(changes))
    tx.update(("rvcounts", shard.reviewed_counts_key), counter, actions)


def forget_reviews(tx: Transaction, layout: Layout, task_ids: Sequence[str]) -> int:
    """Deletes in `tx` of the reviewed-label items of tasks it deletes, each partition's count
    lowered by its items and its writes raised as much (a report computed before is stale).
    Each delete is conditioned on its item being there, so a count moves only with an item;
    an item written between this read and the commit changed its task's `reviewed_job`, which
    the task's deletion checks: the transaction fails and is read again. Returns
    how many items go: at most two a task, under its shard and under the unnumbered key."""
    gone: Counter[Shard] = Counter()
    shard_of = {s.reviewed_key: s for t in task_ids for s in places(layout, t)}
    for item in read_reviews(layout, task_ids, keys_only=True):
        tx.delete(
            ("rv", f"{item.reviewed_key}/{item.task_id}"),
            item,
            condition=ReviewedModel.task_id.exists(),
        )
        gone[shard_of[item.reviewed_key]] += 1
    for shard, n in gone.items():
        counts_update(tx, shard, -n, n)
    return sum(gone.values())
