"""A task's image for the web page's preview: a short-lived presigned S3 GET URL, not the bytes.

The API function never streams images (Lambda's 6 MB response limit, and no binary work in the
function); the browser fetches the object straight from S3 with the signed URL (SigV4). The task
is read first, so another organization's task is 404 like every other route, and the URL names
exactly the object the task points at, and only inside the organization's data locations.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from prelabel.api.routes.common import IdPath, caller_locations, project_ref
from prelabel.container import container
from prelabel.services.images import LINK_TTL_SECONDS

router = Router()


class TaskImageOut(BaseModel):
    url: str
    expires_in: int
    image_width: int | None
    image_height: int | None


@router.get(
    "/projects/<project_id>/tasks/<task_id>/image",
    summary="A short-lived URL of the task's image",
    tags=["Tasks"],
    description=f"A presigned S3 GET URL (SigV4), valid for {LINK_TTL_SECONDS} seconds.",
)
def get_task_image(project_id: IdPath, task_id: IdPath) -> TaskImageOut:
    link = container().image_service.task_image_link(
        caller_locations(router),
        project_ref(router, project_id),
        task_id,
    )
    return TaskImageOut(
        url=link.url,
        expires_in=link.expires_in,
        image_width=link.task.image_width,
        image_height=link.task.image_height,
    )
