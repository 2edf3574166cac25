"""A task's image for the browser: a short-lived signed link, only inside the caller's locations."""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.entities import ProjectRef, Task
from prelabel.domain.locations import OrgLocations, is_readable, refused
from prelabel.ports.images import ImageLinks
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import TaskRepository

LINK_TTL_SECONDS = 300


@dataclass(frozen=True, slots=True)
class TaskImageLink:
    task: Task
    url: str
    expires_in: int


@dataclass(frozen=True)
class ImageService:
    projects: ProjectRepository
    tasks: TaskRepository
    links: ImageLinks

    def task_image_link(
        self, locations: OrgLocations, ref: ProjectRef, task_id: str
    ) -> TaskImageLink:
        """NotFound for another organization's project or task, as everywhere;
        LocationRefused for a task whose image lies outside the organization's locations (a
        revoked grant, or a key that was never the organization's), so nothing outside them
        is ever signed."""
        self.projects.get(ref)
        task = self.tasks.get(ref, task_id)
        if not is_readable(locations, task.bucket, task.image_key):
            raise refused(task.bucket, task.image_key)
        url = self.links.signed_get_url(task.bucket, task.image_key, LINK_TTL_SECONDS)
        return TaskImageLink(task, url, LINK_TTL_SECONDS)
