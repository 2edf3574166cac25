"""Review samples: a random sample of pre-labeled tasks, stratified by class and sized to
calibrate thresholds, written as a Label Studio or CVAT file by a job (the team reviews it
first). Started like an export, read back like one: 202 with the job, then 200 with a link."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from prelabel.api.review_schemas import ReviewSampleIn, ReviewSampleOut, SampleClassOut
from prelabel.api.routes.common import IdPath, project_ref
from prelabel.api.schemas import JobOut
from prelabel.api.views import job_out
from prelabel.container import container
from prelabel.export_formats.review_files import ReviewFileFormat

if TYPE_CHECKING:
    from prelabel.services.review_samples import SampleLink

router = Router()


@router.post(
    "/projects/<project_id>/review-sample",
    summary="Draw a review sample (a job)",
    description=(
        "Draws pre-labeled tasks at random, per class (label entry) until the class has "
        "`boxes_per_class` boxes or runs out, and writes them as a Label Studio or CVAT file: "
        "202 with the job (the same request while it runs answers with it). 409 when no task "
        "is pre-labeled. Read it with GET .../review-sample/{job_id}."
    ),
    tags=["Review"],
    responses={
        202: {
            "description": "The job drawing the sample",
            "content": {"application/json": {"model": JobOut}},
        }
    },
)
def post_review_sample(project_id: IdPath, body: ReviewSampleIn) -> Response[str]:
    job = container().review_sample_service.start(
        project_ref(router, project_id), body.format, body.boxes_per_class, body.seed
    )
    return Response(202, content_types.APPLICATION_JSON, job_out(job).model_dump_json())


@router.get(
    "/projects/<project_id>/review-sample/<job_id>",
    summary="A review sample: its job while it runs, then its file and classes",
    description=(
        "202 with the job while it runs; 200 with `url` (a presigned GET of the file, valid "
        "`expires_in` seconds) and per class the boxes asked for and got, the tasks drawn, "
        "and why a class ran short; 409 if the job failed."
    ),
    tags=["Review"],
    responses={
        200: {
            "description": "The sample is written: its link and figures",
            "content": {"application/json": {"model": ReviewSampleOut}},
        },
        202: {
            "description": "The job, running",
            "content": {"application/json": {"model": JobOut}},
        },
    },
)
def get_review_sample(project_id: IdPath, job_id: IdPath) -> Response[str]:
    # Imported here: the review sample's module (and the exports' it uses) loads only where a
    # sample is read.
    from prelabel.services.review_samples import SampleLink

    found = container().review_sample_service.link(project_ref(router, project_id), job_id)
    if isinstance(found, SampleLink):
        body = sample_out(found).model_dump_json()
        return Response(200, content_types.APPLICATION_JSON, body)
    return Response(202, content_types.APPLICATION_JSON, job_out(found).model_dump_json())


def sample_out(link: SampleLink) -> ReviewSampleOut:
    r = link.job.result
    return ReviewSampleOut(
        url=link.url,
        expires_in=link.expires_in,
        job_id=link.job.job_id,
        format=ReviewFileFormat(str(r["format"])),
        filename=str(r["filename"]),
        tasks=int(r["tasks"]),
        boxes=int(r["boxes"]),
        boxes_per_class=int(r["boxes_per_class"]),
        seed=int(r["seed"]),
        classes=[SampleClassOut(**c) for c in link.classes],
    )
