"""Tasks read by id with their pre-label's facts (one BatchGetItem each for the task and
pre-label items), and the project's image keys page by page (each shard's task partition read
in id order, only the three attributes wanted, merged)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.keys import Shard, outcome_of
from prelabel.adapters.dynamodb.label_codec import decode_labels, decode_model
from prelabel.adapters.dynamodb.models import PrelabelModel, TaskModel
from prelabel.adapters.dynamodb.shards import Layouts
from prelabel.adapters.dynamodb.task_items import prelabels_of, tasks_by_id
from prelabel.adapters.dynamodb.task_lists import shard_page
from prelabel.domain.entities import ProjectRef
from prelabel.ports.task_facts import (
    ImageKey,
    ImageKeyPage,
    PrelabelFacts,
    TaskFacts,
    TaskFinder,
)


def prelabel_facts(task_id: str, item: PrelabelModel) -> PrelabelFacts:
    model = decode_model(item.model)
    return PrelabelFacts(
        state=outcome_of(item.outcome_key),
        run_id=item.run_id,
        model_version=model[1],
        labels=decode_labels(task_id, item.labels, model),
        width=None if item.width is None else int(item.width),
        height=None if item.height is None else int(item.height),
    )


class DynamoTaskFinder(TaskFinder):
    def __init__(self, layouts: Layouts | None = None) -> None:
        self._layouts = layouts or Layouts()

    def facts(self, ref: ProjectRef, task_ids: Sequence[str]) -> dict[str, TaskFacts]:
        layout = self._layouts.of(ref)
        items = tasks_by_id(layout, list(dict.fromkeys(task_ids)))
        prelabels = prelabels_of(layout, list(items))
        return {
            t: TaskFacts(
                t,
                item.dataset_id,
                item.bucket,
                item.image_key,
                prelabel_facts(t, prelabels[t]) if t in prelabels else None,
            )
            for t, item in items.items()
        }

    def image_keys(self, ref: ProjectRef, after: str | None, limit: int) -> ImageKeyPage:
        shards = self._layouts.of(ref).stored()
        size = shard_page(limit, len(shards))
        merged = heapq.merge(
            *(_keys_after(s, after, size) for s in shards), key=lambda k: k.task_id
        )
        keys: list[ImageKey] = []
        for key in merged:
            keys.append(key)
            if len(keys) == limit:
                more = next(merged, None) is not None
                return ImageKeyPage(keys, key.task_id if more else None)
        return ImageKeyPage(keys, None)


def _keys_after(shard: Shard, after: str | None, page_size: int) -> Iterator[ImageKey]:
    start = {"project_key": {"S": shard.tasks_key}, "task_id": {"S": after}} if after else None
    with storage_errors("list image keys"):
        for item in TaskModel.query(
            shard.tasks_key,
            last_evaluated_key=start,
            page_size=page_size,
            attributes_to_get=["task_id", "bucket", "image_key"],
        ):
            yield ImageKey(item.task_id, item.bucket, item.image_key)
