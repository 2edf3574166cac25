"""The label mapping, the AI-assistant view, the detector classes and the remaining limit."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from prelabel.api.routes.common import IdPath, caller_organization, project_ref
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

router = Router()


@router.get("/detector-classes", summary="The detector's classes", tags=["Pre-labeling"])
def get_detector_classes() -> list[DetectorClassOut]:
    return [DetectorClassOut(id=c.id, name=c.name) for c in DETECTOR_CLASSES]


@router.get(
    "/limit", summary="The organization's monthly AI-assistance limit", tags=["Pre-labeling"]
)
def get_limit() -> LimitOut:
    return limit_out(caller_organization(router))


@router.get(
    "/projects/<project_id>/mapping", summary="Read the label mapping", tags=["Pre-labeling"]
)
def get_mapping(project_id: IdPath) -> MappingOut:
    return mapping_out(container().projects.get(project_ref(router, project_id)))


@router.put(
    "/projects/<project_id>/mapping", summary="Replace the label mapping", tags=["Pre-labeling"]
)
def put_mapping(project_id: IdPath, body: MappingReplace) -> MappingOut:
    rows = [MappingRowInput(r.detector_class, r.entry_id, r.min_confidence) for r in body.rows]
    project = container().project_service.replace_mapping(
        project_ref(router, project_id), rows, body.default_threshold
    )
    return mapping_out(project)


@router.get(
    "/projects/<project_id>/assistant",
    summary="The AI-assistant view: mapping, limit, whether a run can start, progress",
    tags=["Pre-labeling"],
)
def get_assistant(project_id: IdPath) -> AssistantOut:
    p = container()
    ref = project_ref(router, project_id)
    run = p.run_service.current(ref)  # reconciles a run whose execution ended elsewhere
    return assistant_out(p.assistant_service.view(ref, run))
