"""Exports of a project's labels: COCO as JSON; YOLO, flat YOLO, Pascal VOC and Label Studio as
a zip. docs/exports.md says how each one opens in CVAT, Label Studio and Ultralytics.

The export is written by the same streaming writer a background job would use, here into
memory. The zip travels inline (base64 body, `isBase64Encoded`), which API Gateway HTTP APIs decode
for the client without any binary-media-type setting. That keeps the API function free of S3
write permissions; the price is Lambda's 6 MB response limit, about 4.4 MB of zip.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from prelabel.api.routes.common import IdPath, caller_locations, project_ref
from prelabel.container import container
from prelabel.exports import ExportFormat
from prelabel.services.exports import export_project

router = Router()


@router.get(
    "/projects/<project_id>/export",
    summary="Export the project's labels",
    tags=["Exports"],
    description=(
        "format=coco answers a COCO JSON document (score, source, detector_class, model_name "
        "and model_version kept on each annotation; file_name is the image key). The others "
        "answer a zip holding prelabel_export.json, which maps every file to its image "
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
            "description": "The export: a COCO document, or a zip for every other format",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def get_export(
    project_id: IdPath,
    export_format: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.COCO,
) -> Response[str]:
    buffer = io.BytesIO()
    summary = export_project(
        container().projects,
        container().tasks,
        project_ref(router, project_id),
        export_format,
        buffer,
        datetime.now(UTC).isoformat(timespec="seconds"),
        locations=caller_locations(router),
    )
    content = buffer.getvalue()
    headers = {"Content-Disposition": f'attachment; filename="{summary.filename}"'}
    if not export_format.is_archive:
        return Response(200, summary.media_type, content.decode(), headers)
    # Powertools would base64 a bytes body itself, but its response validation first tries to
    # read the body as UTF-8 text; so the zip is encoded here and flagged for API Gateway.
    response = Response(200, summary.media_type, base64.b64encode(content).decode(), headers)
    response.base64_encoded = True
    return response
