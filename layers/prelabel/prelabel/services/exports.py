"""Exporting a project's labels: read every task, page by page, then build the chosen format."""

from __future__ import annotations

from prelabel.domain.entities import ProjectRef, Task
from prelabel.domain.locations import OrgLocations, is_readable
from prelabel.exports.bundle import ExportBundle, ExportFormat, build_export
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import TaskFilter, TaskRepository

EXPORT_PAGE_SIZE = 500


def all_tasks(tasks: TaskRepository, ref: ProjectRef, page_size: int | None = None) -> list[Task]:
    out: list[Task] = []
    cursor: str | None = None
    while True:
        page = tasks.list_tasks(ref, TaskFilter(), page_size or EXPORT_PAGE_SIZE, cursor)
        out.extend(page.tasks)
        cursor = page.cursor
        if cursor is None:
            return out


def export_project(
    projects: ProjectRepository,
    tasks: TaskRepository,
    ref: ProjectRef,
    fmt: ExportFormat,
    created_at: str,
    *,
    locations: OrgLocations,
) -> ExportBundle:
    """NotFound for another organization's project, before any task is read.

    Tasks whose image lies outside the organization's data locations (a revoked grant, a key
    that was never the organization's) are left out: an export never names such an image.
    """
    project = projects.get(ref)
    readable = [t for t in all_tasks(tasks, ref) if is_readable(locations, t.bucket, t.image_key)]
    return build_export(project, readable, fmt, created_at)
