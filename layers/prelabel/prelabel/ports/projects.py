"""Ports for projects and their datasets."""

from __future__ import annotations

from abc import ABC, abstractmethod

from prelabel.domain.entities import Dataset, Project, ProjectRef
from prelabel.domain.label_config import LabelEntry
from prelabel.domain.mapping import LabelMapping


class ProjectRepository(ABC):
    @abstractmethod
    def create(self, project: Project) -> None: ...

    @abstractmethod
    def get(self, ref: ProjectRef) -> Project:
        """NotFound if absent or owned by another organization."""

    @abstractmethod
    def list_projects(self, org_id: str) -> list[Project]: ...

    @abstractmethod
    def save_label_config(self, ref: ProjectRef, entries: tuple[LabelEntry, ...]) -> None: ...

    @abstractmethod
    def save_mapping(
        self, ref: ProjectRef, mapping: LabelMapping, default_threshold: float
    ) -> None:
        """Conflict if a run became active meanwhile (checked in the same write)."""


class DatasetRepository(ABC):
    @abstractmethod
    def add(self, dataset: Dataset) -> None: ...

    @abstractmethod
    def get(self, ref: ProjectRef, dataset_id: str) -> Dataset: ...

    @abstractmethod
    def list_datasets(self, ref: ProjectRef) -> list[Dataset]: ...

    @abstractmethod
    def remove(self, ref: ProjectRef, dataset_id: str) -> None: ...


class ImageLister(ABC):
    """Lists the image objects under a bucket prefix (the dataset's storage)."""

    @abstractmethod
    def list_images(self, bucket: str, prefix: str, limit: int) -> list[str]:
        """Keys of image files, at most `limit + 1` so callers can tell when there are too many."""


class ImageLinks(ABC):
    """Short-lived links a browser can fetch one image with, straight from storage."""

    @abstractmethod
    def signed_get_url(self, bucket: str, key: str, expires_in: int) -> str: ...
