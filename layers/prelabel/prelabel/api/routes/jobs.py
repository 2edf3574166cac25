"""Jobs of a project: imports, moves, disconnects, reconnects and exports, with progress."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from prelabel.api.routes.common import IdPath, project_ref
from prelabel.api.schemas import JobListOut, JobOut
from prelabel.api.views import job_out
from prelabel.container import container

router = Router()


@router.get(
    "/projects/<project_id>/jobs/<job_id>",
    summary="Read a job: status, progress, result or error",
    tags=["Jobs"],
)
def get_job(project_id: IdPath, job_id: IdPath) -> JobOut:
    ref = project_ref(router, project_id)
    container().projects.get(ref)
    return job_out(container().job_service.get(ref, job_id))


@router.get(
    "/projects/<project_id>/jobs", summary="The project's jobs, newest first", tags=["Jobs"]
)
def list_jobs(project_id: IdPath, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> JobListOut:
    ref = project_ref(router, project_id)
    container().projects.get(ref)
    return JobListOut(jobs=[job_out(j) for j in container().job_service.recent(ref, limit)])


@router.post(
    "/projects/<project_id>/reshard",
    summary="Spread a legacy project's tasks over shards (a job)",
    description=(
        "Projects made before task shards keep all their tasks in one DynamoDB partition, which "
        "limits their jobs to ~500 tasks/s. This job moves them, with their pre-labels and "
        "counts, to the shards every new project has: 202 with the job (the same request while "
        "it runs answers with the same job). While it runs, starting a run and moving named "
        "tasks are refused (409), and jobs that write tasks (imports, moves, disconnects) end "
        "FAILED at their first slice, naming it; views and exports go on. Refused (409) while "
        "a pre-labeling run is active, or when the tasks are sharded already."
    ),
    tags=["Jobs"],
    responses={
        202: {
            "description": "The job moving the tasks",
            "content": {"application/json": {"model": JobOut}},
        }
    },
)
def post_reshard(project_id: IdPath) -> Response[str]:
    job = container().reshard_service.start(project_ref(router, project_id))
    return Response(202, content_types.APPLICATION_JSON, job_out(job).model_dump_json())
