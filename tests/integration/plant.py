"""Tasks and pre-labels written straight into the table, as an earlier run (or a bug) would
have left them, at the keys of the project's layout (its task's shard).

Tests use this to set the scene quickly (an already pre-labeled task, an export to read); a
pre-label's writes are the ones the batch commit makes for a task: its pre-label item and the
counters. A planted task is the item alone (no counters), as a bug would leave it.
"""

from __future__ import annotations

from collections.abc import Sequence

from prelabel.adapters.dynamodb.counts import counter_actions, counts_item
from prelabel.adapters.dynamodb.label_codec import encode_labels, encode_model
from prelabel.adapters.dynamodb.models import PrelabelModel, TaskModel
from prelabel.adapters.dynamodb.shards import read_layout
from prelabel.domain.entities import Label, LabelingState, PrelabelState, ProjectRef


def plant_task(
    ref: ProjectRef, task_id: str, *, bucket: str, image_key: str, dataset_id: str
) -> None:
    """A WAITING task item of `dataset_id`, written directly (nothing counts it)."""
    shard = read_layout(ref).home(task_id)
    TaskModel(
        shard.tasks_key,
        task_id,
        dataset_id=dataset_id,
        dataset_key=shard.dataset_key(dataset_id),
        bucket=bucket,
        image_key=image_key,
        state=LabelingState.WAITING.value,
        state_key=shard.state_key(LabelingState.WAITING),
        created_at="2026-11-01T00:00:00Z",
    ).save()


def plant_prelabel(
    ref: ProjectRef,
    task_id: str,
    labels: Sequence[Label] = (),
    *,
    size: tuple[int, int] = (640, 480),
    model: tuple[str, str] = ("planted", "0"),
    failed_reason: str | None = None,
    run_id: str = "run_planted",
) -> None:
    outcome = PrelabelState.FAILED if failed_reason else PrelabelState.DONE
    shard = read_layout(ref).home(task_id)
    PrelabelModel(
        shard.outcome_key(outcome),
        task_id,
        run_id=run_id,
        width=None if failed_reason else size[0],
        height=None if failed_reason else size[1],
        model=None if failed_reason else encode_model(*model),
        labels=None if failed_reason else encode_labels(labels),
        reason=failed_reason,
    ).save()
    waiting = TaskModel.get(shard.tasks_key, task_id).state == LabelingState.WAITING.value
    deltas = {"failed" if failed_reason else "prelabeled": 1, "eligible": -1 if waiting else 0}
    counts_item(shard).update(actions=counter_actions(deltas))
