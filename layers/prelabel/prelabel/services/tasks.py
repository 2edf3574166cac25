"""Moving tasks between BACKLOG and WAITING, and reading them."""

from __future__ import annotations

from collections.abc import Sequence

from prelabel.domain.entities import LabelingState, ProjectRef
from prelabel.domain.errors import InvalidInput, NotFound
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import TaskRepository

# Users move tasks between these two; the other states belong to the labeling tool itself.
MOVABLE = {
    (LabelingState.BACKLOG, LabelingState.WAITING),
    (LabelingState.WAITING, LabelingState.BACKLOG),
}
MAX_TASK_IDS_PER_MOVE = 1_000


def move_tasks(
    projects: ProjectRepository,
    tasks: TaskRepository,
    ref: ProjectRef,
    *,
    source: LabelingState,
    target: LabelingState,
    task_ids: Sequence[str] | None,
) -> list[str]:
    """Move the named tasks (or all in `source` when None); unknown ids change nothing."""
    projects.get(ref)
    if (source, target) not in MOVABLE:
        raise InvalidInput(
            f"to: moving tasks from {source.value} to {target.value} is not allowed; "
            "only BACKLOG <-> WAITING",
            field="to",
        )
    if task_ids is None:
        return tasks.move(ref, list(tasks.ids_in_state(ref, source)), source, target)
    if len(task_ids) > MAX_TASK_IDS_PER_MOVE:
        raise InvalidInput(
            f"task_ids: {len(task_ids)} ids given; at most {MAX_TASK_IDS_PER_MOVE}",
            field="task_ids",
        )
    missing = []
    wrong_state = []
    for task_id in dict.fromkeys(task_ids):
        try:
            task = tasks.get(ref, task_id)
        except NotFound:
            missing.append(task_id)
            continue
        if task.state is not source:
            wrong_state.append(f"{task_id} ({task.state.value})")
    if missing:
        raise NotFound(f"task_ids: no such tasks in this project: {', '.join(missing[:20])}")
    if wrong_state:
        raise InvalidInput(
            f"task_ids: not in {source.value}: {', '.join(wrong_state[:20])}", field="task_ids"
        )
    return tasks.move(ref, list(dict.fromkeys(task_ids)), source, target)
