"""A project's detector: which model it pre-labels with, and the classes its mapping names."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from prelabel.api.model_schemas import DetectorPick, DetectorSwitchOut, ProjectDetectorOut
from prelabel.api.model_views import project_detector_out, switch_out
from prelabel.api.routes.common import IdPath, project_ref
from prelabel.container import container

router = Router()


@router.get(
    "/projects/<project_id>/detector",
    summary="The project's detector and its classes (what the mapping may name)",
    tags=["Pre-labeling"],
)
def get_detector(project_id: IdPath) -> ProjectDetectorOut:
    detector = container().project_detector_service.current(project_ref(router, project_id))
    return project_detector_out(detector)


@router.put(
    "/projects/<project_id>/detector",
    summary="Pick the project's detector: a built-in or one of the organization's READY models",
    description=(
        "Refused (409) while a run is active. The mapping keeps the rows whose class the new "
        "model has, re-indexed to its classes, and drops the others: `dropped` names them."
    ),
    tags=["Pre-labeling"],
)
def put_detector(project_id: IdPath, body: DetectorPick) -> DetectorSwitchOut:
    switched = container().project_detector_service.switch(
        project_ref(router, project_id), body.model_id, body.version
    )
    return switch_out(switched)
