"""Listing, reading and moving tasks."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from prelabel.api.routes.common import IdPath, project_ref
from prelabel.api.schemas import JobOut, MovedOut, TaskDetailOut, TaskMove, TaskPageOut
from prelabel.api.views import job_out, task_detail_out, task_out
from prelabel.container import container
from prelabel.domain.entities import LabelingState
from prelabel.domain.errors import InvalidInput
from prelabel.ports.tasks import TaskFilter, TaskOrder

router = Router()


@router.get(
    "/projects/<project_id>/tasks",
    summary="List tasks, a page at a time",
    description=(
        "In task-id order, or with `order=review` the pre-labeled tasks people should review "
        "first: boxes nearest their class threshold, then many low-score boxes, then the rest "
        "(docs/quality.md). Review order reads the review index, so it takes no `state` or "
        "`dataset_id` filter and no `prelabeled=false` (400 naming the parameter)."
    ),
    tags=["Tasks"],
)
def list_tasks(
    project_id: IdPath,
    state: Annotated[LabelingState | None, Query()] = None,
    prelabeled: Annotated[bool | None, Query()] = None,
    dataset_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    order: Annotated[TaskOrder, Query()] = TaskOrder.ID,
) -> TaskPageOut:
    ref = project_ref(router, project_id)
    flt = TaskFilter(state, prelabeled, dataset_id, order)
    container().projects.get(ref)
    page = container().tasks.list_tasks(ref, flt, limit, cursor)
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
    description=(
        "With `task_ids` (at most 1,000): moved now, 200 with what moved. With `all: true`: a "
        "job moves every task of the state, 202 with the job (the same request while it runs "
        "answers with the same job). Moving out of WAITING is refused (409) while a "
        "pre-labeling run is active."
    ),
    tags=["Tasks"],
    responses={
        200: {
            "description": "The named tasks, moved",
            "content": {"application/json": {"model": MovedOut}},
        },
        202: {
            "description": "All tasks of the state: the job moving them",
            "content": {"application/json": {"model": JobOut}},
        },
    },
)
def post_move(project_id: IdPath, body: TaskMove) -> Response[str]:
    if (body.task_ids is None) == (not body.all):
        raise InvalidInput(
            "task_ids: give either task_ids or all=true, not both and not neither",
            field="task_ids",
        )
    ref = project_ref(router, project_id)
    c = container()
    if body.task_ids is None:
        job = c.task_service.move_all(ref, source=body.from_state, target=body.to_state)
        return Response(202, content_types.APPLICATION_JSON, job_out(job).model_dump_json())
    moved = c.task_service.move(
        ref,
        source=body.from_state,
        target=body.to_state,
        task_ids=body.task_ids,
    )
    out = MovedOut(moved=len(moved), task_ids=moved)
    return Response(200, content_types.APPLICATION_JSON, out.model_dump_json())
