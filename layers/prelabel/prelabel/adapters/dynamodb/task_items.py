"""Task and pre-label items read by id (BatchGetItem at the keys their layout gives), and the
domain's Task made of the two."""

from __future__ import annotations

from collections.abc import Sequence

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.keys import Shard, outcome_of, project_ref
from prelabel.adapters.dynamodb.label_codec import decode_labels, decode_model
from prelabel.adapters.dynamodb.models import PrelabelModel, TaskModel
from prelabel.adapters.dynamodb.shards import Layout
from prelabel.domain.entities import LabelingState, PrelabelState, Task
from prelabel.quality.priority import REST_VALUE, key_value


def priority_value(prelabel: PrelabelModel) -> int | None:
    """A pre-label's review priority: its key when queued (it carries its review-index entry),
    the rest's otherwise; None for a failed one."""
    if outcome_of(prelabel.outcome_key) is not PrelabelState.DONE:
        return None
    return key_value(prelabel.review) if prelabel.review else REST_VALUE


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
    return Task(
        project=ref,
        task_id=item.task_id,
        dataset_id=item.dataset_id,
        bucket=item.bucket,
        image_key=item.image_key,
        state=LabelingState(item.state),
        prelabel_state=outcome_of(prelabel.outcome_key),
        prelabel_reason=prelabel.reason,
        labels=decode_labels(item.task_id, prelabel.labels, decode_model(prelabel.model)),
        image_width=None if prelabel.width is None else int(prelabel.width),
        image_height=None if prelabel.height is None else int(prelabel.height),
        created_at=item.created_at,
        prelabel_run_id=prelabel.run_id,
        review_priority=priority_value(prelabel),
    )


def task_item(shard: Shard, task: Task) -> TaskModel:
    """The task's item in `shard`, with its index keys there."""
    return TaskModel(
        shard.tasks_key,
        task.task_id,
        dataset_id=task.dataset_id,
        dataset_key=shard.dataset_key(task.dataset_id),
        bucket=task.bucket,
        image_key=task.image_key,
        state=task.state.value,
        state_key=shard.state_key(task.state),
        created_at=task.created_at,
    )


def prelabels_of(
    layout: Layout, task_ids: Sequence[str], *, keys_only: bool = False
) -> dict[str, PrelabelModel]:
    keys = [
        (shard.outcome_key(o), t)
        for t in task_ids
        for shard in layout.places(t)
        for o in PrelabelState
    ]
    if not keys:
        return {}
    options = {"attributes_to_get": ["project_key", "task_id"]} if keys_only else {}
    with storage_errors("read pre-labels"):
        return {
            p.task_id: p for p in PrelabelModel.batch_get(keys, consistent_read=True, **options)
        }


def tasks_by_id(layout: Layout, task_ids: Sequence[str]) -> dict[str, TaskModel]:
    keys = [(shard.tasks_key, t) for t in task_ids for shard in layout.places(t)]
    if not keys:
        return {}
    with storage_errors("read tasks"):
        return {t.task_id: t for t in TaskModel.batch_get(keys, consistent_read=True)}


def joined(layout: Layout, task_ids: Sequence[str]) -> list[Task]:
    """The tasks of `task_ids` that exist, with their pre-labels, in that order."""
    items = tasks_by_id(layout, task_ids)
    prelabels = prelabels_of(layout, list(items))
    return [task_to_domain(items[t], prelabels.get(t)) for t in task_ids if t in items]
