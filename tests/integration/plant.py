"""Pre-labels written straight into the table, as an earlier run would have left them.

Tests use this to set the scene quickly (an already pre-labeled task, an export to read); the
writes are the ones the batch commit makes for a task: its pre-label item and the counters.
"""

from __future__ import annotations

from collections.abc import Sequence

from prelabel.adapters.dynamodb.counts import counter_actions, counts_item
from prelabel.adapters.dynamodb.keys import outcome_key
from prelabel.adapters.dynamodb.label_codec import encode_labels, encode_model
from prelabel.adapters.dynamodb.models import PrelabelModel, TaskModel
from prelabel.domain.entities import Label, LabelingState, PrelabelState, ProjectRef


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
    PrelabelModel(
        outcome_key(ref, outcome),
        task_id,
        run_id=run_id,
        width=None if failed_reason else size[0],
        height=None if failed_reason else size[1],
        model=None if failed_reason else encode_model(*model),
        labels=None if failed_reason else encode_labels(labels),
        reason=failed_reason,
    ).save()
    waiting = TaskModel.get(ref.key, task_id).state == LabelingState.WAITING.value
    deltas = {"failed" if failed_reason else "prelabeled": 1, "eligible": -1 if waiting else 0}
    counts_item(ref).update(actions=counter_actions(deltas))
