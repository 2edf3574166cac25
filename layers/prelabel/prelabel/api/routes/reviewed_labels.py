"""Reviewed labels: a signed upload of a review tool's export, and the job that imports it."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from prelabel.api.quality_schemas import ReviewedImportIn, UploadIn, UploadOut
from prelabel.api.quality_views import upload_out
from prelabel.api.routes.common import IdPath, caller_locations, project_ref
from prelabel.api.schemas import JobOut
from prelabel.api.views import job_out
from prelabel.container import container
from prelabel.services.reviewed_imports import ImportRequest

router = Router()


@router.post(
    "/projects/<project_id>/reviewed-labels/uploads",
    summary="A presigned POST to upload a reviewed-labels file straight to S3",
    description=(
        "The file goes to S3, never through the API: POST a multipart/form-data form to `url` "
        "with every field of `fields` and the file last (as `file`). The policy (SigV4) allows "
        "only `key`, under the organization's own folder (`<org>/reviewed/<project>/<upload "
        "id>/<file name>`), files of 1 byte to `max_bytes` (256 MiB), for `expires_in` seconds. "
        "Then give `key` to POST .../reviewed-labels."
    ),
    tags=["Quality"],
)
def post_upload(project_id: IdPath, body: UploadIn) -> UploadOut:
    ticket = container().reviewed_import_service.upload(
        project_ref(router, project_id), body.file_name
    )
    return upload_out(ticket)


@router.post(
    "/projects/<project_id>/reviewed-labels",
    summary="Import reviewed labels from a review tool's export (a job)",
    description=(
        "Reads a COCO JSON document, a Label Studio JSON export (its annotations, never its "
        "predictions), CVAT's COCO 1.0 zip or a Pascal VOC zip (`format`; absent: told from "
        "the file), matches each image to a task by bucket and key, key, or unique file name, "
        "and each label to a bbox entry, and stores each matched task's reviewed labels apart "
        "from its pre-label (re-importing replaces a task's reviewed labels). 202 with the "
        "job; its `result` holds the report (images matched, not imported per reason, unknown "
        "labels, each with examples). The file (`key`, in `bucket` or the data bucket) must lie "
        "inside the organization's data locations: 403 otherwise, the same answer whether or "
        "not it exists. The same request while its job runs answers with it; another file "
        "while one is imported is refused (409)."
    ),
    tags=["Quality"],
    responses={
        202: {"description": "The import job", "content": {"application/json": {"model": JobOut}}}
    },
)
def post_reviewed_labels(project_id: IdPath, body: ReviewedImportIn) -> Response[str]:
    request = ImportRequest(body.key, body.bucket, body.format, body.image_field)
    job = container().reviewed_import_service.start(
        caller_locations(router), project_ref(router, project_id), request
    )
    return Response(202, content_types.APPLICATION_JSON, job_out(job).model_dump_json())
