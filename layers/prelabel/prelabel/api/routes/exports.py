"""Exports of a project's labels, written as files by a job: COCO as JSON; YOLO, flat YOLO,
Pascal VOC and Label Studio as a zip. docs/exports.md says how each one opens in CVAT, Label
Studio and Ultralytics.

The first request starts the job (202 with it); the same request with its `job_id` answers 202
while the file is written and 200 with a short-lived presigned link once it is in S3. So the
request never carries the export itself: no size limit but the job's, whatever the project.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from prelabel.api.routes.common import ID_PATTERN, IdPath, project_ref
from prelabel.api.schemas import ExportLinkOut, JobOut
from prelabel.api.views import export_link_out, job_out
from prelabel.container import container
from prelabel.export_formats import ExportFormat

router = Router()


@router.get(
    "/projects/<project_id>/export",
    summary="Export the project's labels as a file",
    tags=["Exports"],
    description=(
        "Without `job_id`: starts an export job (202 with the job; the same request while one "
        "runs answers with it). With `job_id`: 202 with the job while it runs, 200 with `url` "
        "(a presigned GET of the file, valid `expires_in` seconds) once it is written, 409 if "
        "it failed. format=coco is a COCO JSON document (score, source, detector_class, "
        "model_name and model_version kept on each annotation; file_name is the image key). "
        "The others are a zip holding prelabel_export.json, which maps every file to its image "
        "(image_uri, bucket, image_key) and to where the image goes in the layout: "
        "yolo = Ultralytics (labels/ mirroring images/ by image key, data.yaml); "
        "yolo_flat = the same in one folder (labels/<stem>.txt, images/<stem>.<ext>); "
        "voc = Pascal VOC (Annotations/<stem>.xml, ImageSets/Main/default.txt, JPEGImages/, "
        "labelmap.txt); labelstudio = Label Studio tasks.json (data.image = s3:// URI, "
        "predictions with model_version, score and rectanglelabels in percent) and "
        "labeling_config.xml. Images are not included. Images whose size is unknown (not "
        "pre-labeled yet) are in COCO with null width/height and in Label Studio without "
        "predictions, and left out of YOLO and VOC, listed in the manifest's skipped_task_ids. "
        "Tasks whose image lies outside the organization's data locations (a revoked grant) "
        "are left out."
    ),
    responses={
        200: {
            "description": "The file is ready: a link to it",
            "content": {"application/json": {"model": ExportLinkOut}},
        },
        202: {
            "description": "The export job, running",
            "content": {"application/json": {"model": JobOut}},
        },
    },
)
def get_export(
    project_id: IdPath,
    export_format: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.COCO,
    job_id: Annotated[str | None, Query(min_length=1, max_length=128, pattern=ID_PATTERN)] = None,
) -> Response[str]:
    c = container()
    ref = project_ref(router, project_id)
    if job_id is None:
        job = c.export_service.start(ref, export_format)
        return Response(202, content_types.APPLICATION_JSON, job_out(job).model_dump_json())
    # Imported here: the export use case's module loads only where an export is read.
    from prelabel.services.exports import ExportLink

    found = c.export_service.link(ref, job_id, export_format)
    if isinstance(found, ExportLink):
        body = export_link_out(found).model_dump_json()
        return Response(200, content_types.APPLICATION_JSON, body)
    return Response(202, content_types.APPLICATION_JSON, job_out(found).model_dump_json())
