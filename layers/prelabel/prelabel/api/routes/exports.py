"""Exports of a project's labels: COCO as JSON, YOLO and Pascal VOC as a zip.

The zip travels inline (base64 body, `isBase64Encoded`), which API Gateway HTTP APIs decode
for the client without any binary-media-type setting. That keeps the API function free of S3
write permissions; the price is Lambda's 6 MB response limit, about 4.4 MB of zip.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from prelabel.api.deps import ports
from prelabel.api.routes.common import IdPath, caller_locations, project_ref
from prelabel.exports.bundle import ExportFormat
from prelabel.services.exports import export_project

router = Router()


@router.get(
    "/projects/<project_id>/export",
    summary="Export the project's labels",
    tags=["Exports"],
    description=(
        "format=coco answers a COCO JSON document (score, source, detector_class, model_name "
        "and model_version kept on each annotation); yolo and voc answer a zip. Images whose "
        "size is unknown (not pre-labeled yet) are in COCO with null width/height and left out "
        "of YOLO and VOC, listed in the zip's prelabel_export.json. Tasks whose image lies "
        "outside the organization's data locations (a revoked grant) are left out."
    ),
    responses={
        200: {
            "description": "The export: a COCO document, or a zip for yolo and voc",
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
    bundle = export_project(
        ports().projects,
        ports().tasks,
        project_ref(router, project_id),
        export_format,
        datetime.now(UTC).isoformat(timespec="seconds"),
        locations=caller_locations(router),
    )
    content = bundle.content()
    headers = {"Content-Disposition": f'attachment; filename="{bundle.filename}"'}
    if not bundle.is_archive:
        return Response(200, bundle.media_type, content.decode(), headers)
    # Powertools would base64 a bytes body itself, but its response validation first tries to
    # read the body as UTF-8 text; so the zip is encoded here and flagged for API Gateway.
    response = Response(200, bundle.media_type, base64.b64encode(content).decode(), headers)
    response.base64_encoded = True
    return response
