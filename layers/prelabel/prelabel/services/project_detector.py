"""A project's detector: the built-in COCO detector or one of the organization's READY model
versions. The mapping's classes are the chosen model's; switching keeps the rows whose class
the new model has (re-indexed to it) and names the rows it had to drop."""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.detector_classes import COCO80, ClassList
from prelabel.domain.detector_models import (
    BUILTIN_COCO,
    ModelPick,
    ModelRef,
    ModelVersion,
    builtin,
)
from prelabel.domain.entities import Project, ProjectRef
from prelabel.domain.errors import Conflict, InvalidInput
from prelabel.domain.mapping import MappingRow, carry_over
from prelabel.ports.detector_models import ModelRepository
from prelabel.ports.projects import ProjectRepository


@dataclass(frozen=True, slots=True)
class ProjectDetector:
    """What a project pre-labels with: `pick` None is the built-in."""

    project: Project
    pick: ModelPick | None
    classes: ClassList

    @property
    def model_id(self) -> str:
        return self.pick.model_id if self.pick else BUILTIN_COCO.model_id

    @property
    def name(self) -> str:
        return self.pick.name if self.pick else BUILTIN_COCO.name


@dataclass(frozen=True, slots=True)
class Switched:
    detector: ProjectDetector
    dropped: tuple[MappingRow, ...]
    changed: bool


def classes_of(models: ModelRepository, project: Project) -> ClassList:
    """The project's model's classes: COCO-80 (with its aliases) for the built-in."""
    if project.model is None:
        return COCO80
    model = models.get(ModelRef(project.ref.org_id, project.model.model_id))
    return ClassList(model.spec.classes)


@dataclass(frozen=True)
class ProjectDetectorService:
    projects: ProjectRepository
    models: ModelRepository

    def current(self, ref: ProjectRef) -> ProjectDetector:
        project = self.projects.get(ref)
        return ProjectDetector(project, project.model, classes_of(self.models, project))

    def switch(self, ref: ProjectRef, model_id: str, version: str | None) -> Switched:
        project = self.projects.get(ref)
        if project.active_run_id:
            raise Conflict("the detector cannot change while a pre-labeling run is active")
        pick, classes = self._pick(ref.org_id, model_id, version)
        if pick == project.model:
            return Switched(ProjectDetector(project, pick, classes), (), changed=False)
        carried = carry_over(project.mapping, classes)
        self.models.assign(ref, project.model, pick, carried.mapping)
        after = self.projects.get(ref)
        return Switched(ProjectDetector(after, pick, classes), carried.dropped, changed=True)

    def _pick(
        self, org_id: str, model_id: str, version: str | None
    ) -> tuple[ModelPick | None, ClassList]:
        found = builtin(model_id)
        if found is not None:
            if version is not None:
                raise InvalidInput(
                    f"version: {model_id} is a built-in detector; it takes no version",
                    field="version",
                )
            return None, COCO80
        # Another organization's model answers NotFound here, as an absent one: the key
        # starts with the caller's organization.
        ref = ModelRef(org_id, model_id)
        model = self.models.get(ref)
        chosen = self._version(ref, version)
        return ModelPick(model_id, chosen.version, model.spec.name), ClassList(model.spec.classes)

    def _version(self, ref: ModelRef, version: str | None) -> ModelVersion:
        if version is None:
            latest = self.models.get(ref).latest_ready
            if latest is None:
                raise Conflict(f"model {ref.model_id} has no READY version yet")
            version = latest
        found = self.models.get_version(ref, version)
        if found is None:
            raise InvalidInput(
                f"version: model {ref.model_id} has no version {version[:80]!r}", field="version"
            )
        if not found.ready:
            raise Conflict(
                f"version {version} of model {ref.model_id} is {found.status.value}; "
                "only a READY version can be picked"
            )
        return found
