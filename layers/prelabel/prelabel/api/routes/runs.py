"""Starting, stopping and watching pre-labeling runs."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from prelabel.api.routes.common import IdPath, project_ref
from prelabel.api.schemas import RunListOut, RunProgressOut, StartRunIn, StartRunOut
from prelabel.api.views import run_out, start_run_out
from prelabel.container import container
from prelabel.domain.errors import NotFound

router = Router()


@router.post(
    "/projects/<project_id>/runs",
    summary="Start pre-labeling",
    description=(
        "201 when a run started; 200 when none did: a run is already active, or fewer "
        "images than eligible fit the limit and `confirm` was not true."
    ),
    tags=["Pre-labeling"],
    status_code=201,
)
def post_run(project_id: IdPath, body: StartRunIn) -> tuple[StartRunOut, int]:
    outcome = container().run_service.start(project_ref(router, project_id), confirm=body.confirm)
    return start_run_out(outcome), 201 if outcome.started else 200


@router.post(
    "/projects/<project_id>/runs/stop", summary="Stop the active run", tags=["Pre-labeling"]
)
def post_stop(project_id: IdPath) -> RunProgressOut:
    return run_out(container().run_service.stop(project_ref(router, project_id)))


@router.get(
    "/projects/<project_id>/runs/current",
    summary="The active or last run's progress",
    tags=["Pre-labeling"],
)
def get_current_run(project_id: IdPath) -> RunProgressOut:
    run = container().run_service.current(project_ref(router, project_id))
    if run is None:
        raise NotFound("this project has no pre-labeling run yet")
    return run_out(run)


@router.get(
    "/projects/<project_id>/runs",
    summary="The project's runs with their figures, newest first",
    tags=["Pre-labeling"],
)
def list_runs(project_id: IdPath, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> RunListOut:
    runs = container().run_service.history(project_ref(router, project_id), limit)
    return RunListOut(runs=[run_out(r) for r in runs])
