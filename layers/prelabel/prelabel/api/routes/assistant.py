"""The label mapping, the AI-assistant view, the detector classes and the remaining limit."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from prelabel.api.routes.common import caller_org, project_ref
from prelabel.api.schemas import (
    AssistantOut,
    DetectorClassOut,
    LimitOut,
    MappingOut,
    MappingReplace,
)
from prelabel.api.views import assistant_out, limit_out, mapping_out
from prelabel.container import container
from prelabel.domain.detector_classes import DETECTOR_CLASSES
from prelabel.domain.mapping import MappingRowInput
from prelabel.services.assistant import assistant_view
from prelabel.services.mapping import replace_mapping

router = Router()


@router.get("/detector-classes")
def get_detector_classes() -> list[DetectorClassOut]:
    return [DetectorClassOut(id=c.id, name=c.name) for c in DETECTOR_CLASSES]


@router.get("/limit")
def get_limit() -> LimitOut:
    return limit_out(container().orgs.get(caller_org(router)))


@router.get("/projects/<project_id>/mapping")
def get_mapping(project_id: str) -> MappingOut:
    return mapping_out(container().projects.get(project_ref(router, project_id)))


@router.put("/projects/<project_id>/mapping")
def put_mapping(project_id: str, body: MappingReplace) -> MappingOut:
    rows = [MappingRowInput(r.detector_class, r.entry_id, r.min_confidence) for r in body.rows]
    project = replace_mapping(
        container().projects, project_ref(router, project_id), rows, body.default_threshold
    )
    return mapping_out(project)


@router.get("/projects/<project_id>/assistant")
def get_assistant(project_id: str) -> AssistantOut:
    p = container()
    ref = project_ref(router, project_id)
    run = p.run_service.current(ref)  # reconciles a run whose execution ended elsewhere
    return assistant_out(assistant_view(p.orgs, p.projects, p.tasks, ref, run))
