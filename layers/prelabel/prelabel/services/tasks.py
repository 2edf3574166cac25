"""Moving tasks between BACKLOG and WAITING: a list of ids at once, or all of a state as a job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prelabel.domain.entities import MAX_TASK_IDS_PER_MOVE, LabelingState, ProjectRef
from prelabel.domain.errors import Conflict, InvalidInput, NotFound
from prelabel.domain.jobs import Job, JobKind
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import Move, TaskRepository
from prelabel.services.jobs.service import JobService, new_job

# Users move tasks between these two; the other states belong to the labeling tool itself.
MOVABLE = {
    (LabelingState.BACKLOG, LabelingState.WAITING),
    (LabelingState.WAITING, LabelingState.BACKLOG),
}


def _check_move(source: LabelingState, target: LabelingState) -> None:
    if (source, target) not in MOVABLE:
        raise InvalidInput(
            f"to: moving tasks from {source.value} to {target.value} is not allowed; "
            "only BACKLOG <-> WAITING",
            field="to",
        )


@dataclass(frozen=True)
class TaskService:
    projects: ProjectRepository
    tasks: TaskRepository
    jobs: JobService

    def move_all(self, ref: ProjectRef, *, source: LabelingState, target: LabelingState) -> Job:
        """A job moving every task in `source`; the same request while it runs gets the same
        job. Moving out of WAITING is refused up front while a run is active (each of the job's
        writes checks it again)."""
        project = self.projects.get(ref)
        _check_move(source, target)
        params = {"from": source.value, "to": target.value}
        running = self.jobs.running(ref, JobKind.MOVE, params)
        if running is not None:
            return running
        if source is LabelingState.WAITING and project.active_run_id:
            raise Conflict(
                f"tasks cannot leave {source.value} while a pre-labeling run is active; "
                "stop the run first"
            )
        total = self.tasks.counts(ref).by_state.get(source, 0)
        return self.jobs.launch(new_job(ref, JobKind.MOVE, params, total=total))

    def move(
        self,
        ref: ProjectRef,
        *,
        source: LabelingState,
        target: LabelingState,
        task_ids: Sequence[str],
    ) -> list[str]:
        """Move the named tasks (at most 1,000); unknown ids change nothing."""
        self.projects.get(ref)
        _check_move(source, target)
        if len(task_ids) > MAX_TASK_IDS_PER_MOVE:
            raise InvalidInput(
                f"task_ids: {len(task_ids)} ids given; at most {MAX_TASK_IDS_PER_MOVE}",
                field="task_ids",
            )
        missing = []
        wrong_state = []
        for task_id in dict.fromkeys(task_ids):
            try:
                task = self.tasks.get(ref, task_id)
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
        return self.tasks.move(ref, list(dict.fromkeys(task_ids)), Move(source, target))
