"""Jobs of a project: imports, moves, disconnects, reconnects and exports, with progress."""

from __future__ import annotations

from typing import Annotated

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
