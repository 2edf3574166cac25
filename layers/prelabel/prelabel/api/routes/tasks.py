"""Listing, reading and moving tasks."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from prelabel.api.routes.common import IdPath, project_ref
from prelabel.api.schemas import MovedOut, TaskDetailOut, TaskMove, TaskPageOut
from prelabel.api.views import task_detail_out, task_out
from prelabel.container import container
from prelabel.domain.entities import LabelingState
from prelabel.domain.errors import InvalidInput
from prelabel.ports.tasks import TaskFilter
from prelabel.services.tasks import move_tasks

router = Router()


@router.get("/projects/<project_id>/tasks", summary="List tasks, a page at a time", tags=["Tasks"])
def list_tasks(
    project_id: IdPath,
    state: Annotated[LabelingState | None, Query()] = None,
    prelabeled: Annotated[bool | None, Query()] = None,
    dataset_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> TaskPageOut:
    ref = project_ref(router, project_id)
    container().projects.get(ref)
    page = container().tasks.list_tasks(
        ref, TaskFilter(state, prelabeled, dataset_id), limit, cursor
    )
    return TaskPageOut(tasks=[task_out(t) for t in page.tasks], cursor=page.cursor)


@router.get(
    "/projects/<project_id>/tasks/<task_id>", summary="Read a task with its labels", tags=["Tasks"]
)
def get_task(project_id: IdPath, task_id: IdPath) -> TaskDetailOut:
    ref = project_ref(router, project_id)
    container().projects.get(ref)
    return task_detail_out(container().tasks.get(ref, task_id))


@router.post(
    "/projects/<project_id>/tasks/move",
    summary="Move tasks between BACKLOG and WAITING",
    tags=["Tasks"],
)
def post_move(project_id: IdPath, body: TaskMove) -> MovedOut:
    if (body.task_ids is None) == (not body.all):
        raise InvalidInput(
            "task_ids: give either task_ids or all=true, not both and not neither",
            field="task_ids",
        )
    moved = move_tasks(
        container().projects,
        container().tasks,
        project_ref(router, project_id),
        source=body.from_state,
        target=body.to_state,
        task_ids=body.task_ids,
    )
    return MovedOut(moved=len(moved), task_ids=moved)
