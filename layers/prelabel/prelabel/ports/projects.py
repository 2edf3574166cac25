"""Ports for projects and their datasets."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from prelabel.domain.entities import Dataset, DatasetStatus, Project, ProjectRef
from prelabel.domain.imports import ImportReport
from prelabel.domain.label_config import LabelEntry
from prelabel.domain.mapping import LabelMapping


@dataclass(frozen=True, slots=True)
class Claim:
    """`job_id` takes a dataset in `status` if its job is still `expected_job_id` (None: no
    job); the claim clears the failure and the report, and sets `generation` when given."""

    job_id: str
    status: DatasetStatus
    expected_job_id: str | None
    generation: int | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a job leaves on a dataset when its work ends: the status, and why or what it found."""

    status: DatasetStatus
    failure: str | None = None
    report: ImportReport | None = None


class ProjectRepository(ABC):
    @abstractmethod
    def create(self, project: Project) -> None: ...

    @abstractmethod
    def get(self, ref: ProjectRef) -> Project:
        """NotFound if absent or owned by another organization."""

    @abstractmethod
    def list_projects(self, org_id: str) -> list[Project]: ...

    @abstractmethod
    def find_by_id(self, project_id: str) -> ProjectRef:
        """The console starts runs with a project id only: find its organization. NotFound."""

    @abstractmethod
    def save_label_config(self, ref: ProjectRef, entries: tuple[LabelEntry, ...]) -> None: ...

    @abstractmethod
    def save_mapping(
        self, ref: ProjectRef, mapping: LabelMapping, default_threshold: float
    ) -> None:
        """Conflict if a run became active meanwhile (checked in the same write)."""


class DatasetRepository(ABC):
    """Datasets and which job works on each. A job owns a dataset from `claim` until `settle`
    (or `remove`); every change is conditioned on the job the caller knows, so two requests
    racing for one dataset cannot both win."""

    @abstractmethod
    def create(self, dataset: Dataset) -> None:
        """Conflict if the id exists."""

    @abstractmethod
    def get(self, ref: ProjectRef, dataset_id: str) -> Dataset:
        """NotFound if absent or another organization's."""

    @abstractmethod
    def list_datasets(self, ref: ProjectRef) -> list[Dataset]: ...

    @abstractmethod
    def claim(self, ref: ProjectRef, dataset_id: str, claim: Claim) -> bool:
        """Hand the dataset over as `claim` says; False if another job owns it now."""

    @abstractmethod
    def settle(self, ref: ProjectRef, dataset_id: str, job_id: str, end: Settlement) -> bool:
        """The end of `job_id`'s work on the dataset; False if another job owns it now."""

    @abstractmethod
    def remove(self, ref: ProjectRef, dataset_id: str, job_id: str) -> bool:
        """Delete the dataset if `job_id` owns it; False otherwise (or gone already)."""
