"""Projects and their label configuration."""

from __future__ import annotations

from collections.abc import Sequence

from prelabel.domain.entities import Project, ProjectRef
from prelabel.domain.errors import Conflict, InvalidInput
from prelabel.domain.ids import new_id, now_iso
from prelabel.domain.label_config import Geometry, LabelEntry, validate_label_config
from prelabel.ports.projects import ProjectRepository


def create_project(
    projects: ProjectRepository, org_id: str, name: str, label_config: Sequence[LabelEntry]
) -> Project:
    entries = validate_label_config(label_config)
    project = Project(ProjectRef(org_id, new_id("prj")), name, entries, created_at=now_iso())
    projects.create(project)
    return project


def replace_label_config(
    projects: ProjectRepository, ref: ProjectRef, label_config: Sequence[LabelEntry]
) -> Project:
    project = projects.get(ref)
    if project.active_run_id:
        raise Conflict("the label configuration cannot change while a pre-labeling run is active")
    entries = validate_label_config(label_config)
    by_id = {e.id: e for e in entries}
    for i, row in enumerate(project.mapping.rows):
        entry = by_id.get(row.entry_id)
        if entry is None or entry.geometry is not Geometry.BBOX:
            raise InvalidInput(
                f"label_config: entry {row.entry_id!r} is the target of mapping row {i} "
                f"({row.class_name}); change the mapping first",
                field="label_config",
            )
    projects.save_label_config(ref, entries)
    return projects.get(ref)
