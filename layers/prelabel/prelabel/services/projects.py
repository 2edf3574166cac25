"""Projects: their label configuration and the mapping of detector classes onto it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prelabel.domain.entities import Project, ProjectRef
from prelabel.domain.errors import Conflict, InvalidInput
from prelabel.domain.ids import new_id, now_iso
from prelabel.domain.label_config import Geometry, LabelEntry, validate_label_config
from prelabel.domain.mapping import MappingRowInput, build_mapping, check_threshold
from prelabel.ports.detector_models import ModelRepository
from prelabel.ports.projects import ProjectRepository
from prelabel.services.project_detector import classes_of


@dataclass(frozen=True)
class ProjectService:
    projects: ProjectRepository
    # The mapping's classes are the project's model's.
    models: ModelRepository

    def create(self, org_id: str, name: str, label_config: Sequence[LabelEntry]) -> Project:
        entries = validate_label_config(label_config)
        project = Project(ProjectRef(org_id, new_id("prj")), name, entries, created_at=now_iso())
        self.projects.create(project)
        return project

    def replace_label_config(self, ref: ProjectRef, label_config: Sequence[LabelEntry]) -> Project:
        project = self.projects.get(ref)
        if project.active_run_id:
            raise Conflict(
                "the label configuration cannot change while a pre-labeling run is active"
            )
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
        self.projects.save_label_config(ref, entries)
        return self.projects.get(ref)

    def replace_mapping(
        self,
        ref: ProjectRef,
        rows: Sequence[MappingRowInput],
        default_threshold: float | None,
    ) -> Project:
        """All rows are checked before anything is written; a bad row leaves the old mapping."""
        project = self.projects.get(ref)
        if project.active_run_id:
            raise Conflict(
                "the mapping cannot change while a pre-labeling run is active; stop it first"
            )
        mapping = build_mapping(rows, project.label_config, classes_of(self.models, project))
        threshold = project.default_threshold
        if default_threshold is not None:
            threshold = check_threshold(default_threshold, "default_threshold")
        self.projects.save_mapping(ref, mapping, threshold)
        return self.projects.get(ref)
