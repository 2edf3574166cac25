"""Exporting a project's labels: tasks read page by page, each page written before the next
is read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from prelabel.domain.entities import ProjectRef, Task
from prelabel.domain.locations import OrgLocations, is_readable
from prelabel.exports import ExportFormat, ExportSummary, write_export
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import TaskFilter, TaskRepository

EXPORT_PAGE_SIZE = 500


def iter_tasks(
    tasks: TaskRepository, ref: ProjectRef, page_size: int | None = None
) -> Iterator[Task]:
    cursor: str | None = None
    while True:
        page = tasks.list_tasks(ref, TaskFilter(), page_size or EXPORT_PAGE_SIZE, cursor)
        yield from page.tasks
        cursor = page.cursor
        if cursor is None:
            return


def export_project(
    projects: ProjectRepository,
    tasks: TaskRepository,
    ref: ProjectRef,
    fmt: ExportFormat,
    sink: IO[bytes],
    created_at: str,
    *,
    locations: OrgLocations,
) -> ExportSummary:
    """NotFound for another organization's project, before any task is read or byte written.

    Tasks whose image lies outside the organization's data locations (a revoked grant, a key
    that was never the organization's) are left out: an export never names such an image.
    """
    project = projects.get(ref)
    readable = (t for t in iter_tasks(tasks, ref) if is_readable(locations, t.bucket, t.image_key))
    return write_export(project, readable, fmt, sink, created_at)
