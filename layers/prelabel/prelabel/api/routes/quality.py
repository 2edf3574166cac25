"""The quality report: computing it (a job) and reading it per scope, with calibrated
thresholds for a target precision."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from prelabel.api.quality_schemas import QualityOut, QualityStartIn
from prelabel.api.quality_views import quality_out
from prelabel.api.routes.common import IdPath, project_ref
from prelabel.api.schemas import JobOut
from prelabel.api.views import job_out
from prelabel.container import container
from prelabel.quality.bounds import DEFAULT_TARGET_PRECISION

router = Router()


@router.post(
    "/projects/<project_id>/quality",
    summary="Compute the quality report (a job)",
    description=(
        "Matches the pre-labels of every task that has reviewed labels against them (IoU >= "
        "0.5, greedy by score, as pycocotools' COCOeval) and stores per scope (all tasks, each "
        "model version, each run with `by_run`) and class the counts the report is read from. "
        "202 with the job; the same request while it runs answers with it."
    ),
    tags=["Quality"],
    responses={
        202: {"description": "The quality job", "content": {"application/json": {"model": JobOut}}}
    },
)
def post_quality(project_id: IdPath, body: QualityStartIn) -> Response[str]:
    job = container().quality_service.start(project_ref(router, project_id), body.by_run)
    return Response(202, content_types.APPLICATION_JSON, job_out(job).model_dump_json())


@router.get(
    "/projects/<project_id>/quality",
    summary="Read the quality report: per class figures, curve and calibrated thresholds",
    description=(
        "Per class (label entry): true positives, misses, extra and wrong-class boxes; "
        "precision, recall, F1 and AP50, each with its count and 95% Wilson lower bound; the "
        "precision-recall curve over thresholds 0.01-0.99; for mapped classes the lowest "
        "threshold whose precision lower bound meets `target_precision`, with the recall it "
        "keeps, or why it is not reachable and how many reviewed boxes would tell, next to the "
        "mapping's current thresholds. `suggested_mapping` is the body of PUT "
        "/projects/{id}/mapping that applies the suggestions. `summary` says how many tasks "
        "the figures rest on, when they were computed and whether the report is stale. Before "
        "any report is computed, an empty report with a `message` saying so."
    ),
    tags=["Quality"],
)
def get_quality(
    project_id: IdPath,
    scope: Annotated[
        str,
        Query(
            min_length=1,
            max_length=300,
            description="all, model:<model version> or run:<run id>",
        ),
    ] = "all",
    target_precision: Annotated[
        float, Query(gt=0.0, lt=1.0, allow_inf_nan=False)
    ] = DEFAULT_TARGET_PRECISION,
) -> QualityOut:
    view = container().quality_service.view(
        project_ref(router, project_id), scope, target_precision
    )
    return quality_out(view)
