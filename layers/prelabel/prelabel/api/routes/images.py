"""A task's image for the web page's preview: a short-lived presigned S3 GET URL, not the bytes.

The API function never streams images (Lambda's 6 MB response limit, and no binary work in the
function); the browser fetches the object straight from S3 with the signed URL. The task is read
first, so another organization's task is 404 like every other route, and the URL names exactly
the object the task points at.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from prelabel.api.routes.common import project_ref
from prelabel.container import client_factory, container

router = Router()

URL_TTL_SECONDS = 300


class TaskImageOut(BaseModel):
    url: str
    expires_in: int
    image_width: int | None
    image_height: int | None


@cache
def _s3(region: str) -> Any:
    return client_factory("s3", region)()


@router.get(
    "/projects/<project_id>/tasks/<task_id>/image",
    summary="A short-lived URL of the task's image",
    description=f"A presigned S3 GET URL, valid for {URL_TTL_SECONDS} seconds.",
)
def get_task_image(project_id: str, task_id: str) -> TaskImageOut:
    ref = project_ref(router, project_id)
    p = container()
    p.projects.get(ref)
    task = p.tasks.get(ref, task_id)
    url: str = _s3(p.settings.region).generate_presigned_url(
        "get_object",
        Params={"Bucket": task.bucket, "Key": task.image_key},
        ExpiresIn=URL_TTL_SECONDS,
    )
    return TaskImageOut(
        url=url,
        expires_in=URL_TTL_SECONDS,
        image_width=task.image_width,
        image_height=task.image_height,
    )
