"""Projects and their label configuration."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from prelabel.api.routes.common import IdPath, caller_org, project_ref
from prelabel.api.schemas import LabelConfigReplace, LabelEntryIn, ProjectCreate, ProjectOut
from prelabel.api.views import project_out
from prelabel.container import container
from prelabel.domain.label_config import LabelEntry

router = Router()


def _entries(items: list[LabelEntryIn]) -> list[LabelEntry]:
    return [LabelEntry(e.id, e.name, e.geometry) for e in items]


@router.get("/projects", summary="List the organization's projects", tags=["Projects"])
def list_projects() -> list[ProjectOut]:
    return [project_out(p) for p in container().projects.list_projects(caller_org(router))]


@router.post("/projects", summary="Create a project", tags=["Projects"], status_code=201)
def post_project(body: ProjectCreate) -> ProjectOut:
    project = container().project_service.create(
        caller_org(router), body.name, _entries(body.label_config)
    )
    return project_out(project)


@router.get("/projects/<project_id>", summary="Read a project", tags=["Projects"])
def get_project(project_id: IdPath) -> ProjectOut:
    return project_out(container().projects.get(project_ref(router, project_id)))


@router.put(
    "/projects/<project_id>/label-config",
    summary="Replace the label configuration",
    tags=["Projects"],
)
def put_label_config(project_id: IdPath, body: LabelConfigReplace) -> ProjectOut:
    project = container().project_service.replace_label_config(
        project_ref(router, project_id), _entries(body.label_config)
    )
    return project_out(project)
