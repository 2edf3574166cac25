"""The label mapping, the AI-assistant view, the detector classes and the remaining limit."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from prelabel.api.deps import ports
from prelabel.api.routes.common import caller_org, project_ref
from prelabel.api.schemas import (
    AssistantOut,
    DetectorClassOut,
    LimitOut,
    MappingOut,
    MappingReplace,
)
from prelabel.api.views import assistant_out, limit_out, mapping_out
from prelabel.domain.detector_classes import DETECTOR_CLASSES
from prelabel.domain.mapping import MappingRowInput
from prelabel.services.assistant import assistant_view
from prelabel.services.mapping import replace_mapping
from prelabel.services.runs import current_run

router = Router()


@router.get("/detector-classes")
def get_detector_classes() -> list[DetectorClassOut]:
    return [DetectorClassOut(id=c.id, name=c.name) for c in DETECTOR_CLASSES]


@router.get("/limit")
def get_limit() -> LimitOut:
    return limit_out(ports().orgs.get(caller_org(router)))


@router.get("/projects/<project_id>/mapping")
def get_mapping(project_id: str) -> MappingOut:
    return mapping_out(ports().projects.get(project_ref(router, project_id)))


@router.put("/projects/<project_id>/mapping")
def put_mapping(project_id: str, body: MappingReplace) -> MappingOut:
    rows = [MappingRowInput(r.detector_class, r.entry_id, r.min_confidence) for r in body.rows]
    project = replace_mapping(
        ports().projects, project_ref(router, project_id), rows, body.default_threshold
    )
    return mapping_out(project)


@router.get("/projects/<project_id>/assistant")
def get_assistant(project_id: str) -> AssistantOut:
    p = ports()
    ref = project_ref(router, project_id)
    run = current_run(p.run_deps, ref)  # reconciles a run whose execution ended elsewhere
    return assistant_out(assistant_view(p.orgs, p.projects, p.tasks, ref, run))
