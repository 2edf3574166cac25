"""Reading and replacing a project's label mapping."""

from __future__ import annotations

from collections.abc import Sequence

from prelabel.domain.entities import Project, ProjectRef
from prelabel.domain.errors import Conflict
from prelabel.domain.mapping import MappingRowInput, build_mapping, check_threshold
from prelabel.ports.projects import ProjectRepository


def replace_mapping(
    projects: ProjectRepository,
    ref: ProjectRef,
    rows: Sequence[MappingRowInput],
    default_threshold: float | None,
) -> Project:
    """All rows are checked before anything is written; a bad row leaves the old mapping."""
    project = projects.get(ref)
    if project.active_run_id:
        raise Conflict(
            "the mapping cannot change while a pre-labeling run is active; stop it first"
        )
    mapping = build_mapping(rows, project.label_config)
    threshold = project.default_threshold
    if default_threshold is not None:
        threshold = check_threshold(default_threshold, "default_threshold")
    projects.save_mapping(ref, mapping, threshold)
    return projects.get(ref)
