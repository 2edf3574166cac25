"""The port for reading tasks by id with their pre-label's facts, and their image keys page by
page: what matching reviewed labels to tasks and computing quality read."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from prelabel.domain.entities import Label, PrelabelState, ProjectRef


@dataclass(frozen=True, slots=True)
class PrelabelFacts:
    """A task's pre-label: its outcome, the run and model version that wrote it, its boxes and
    the image size it was computed on (None when it failed)."""

    state: PrelabelState
    run_id: str
    model_version: str
    labels: tuple[Label, ...] = ()
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class TaskFacts:
    task_id: str
    dataset_id: str
    bucket: str
    image_key: str
    prelabel: PrelabelFacts | None = None


@dataclass(frozen=True, slots=True)
class ImageKey:
    task_id: str
    bucket: str
    image_key: str


@dataclass(frozen=True, slots=True)
class ImageKeyPage:
    keys: list[ImageKey]
    last: str | None  # the id the next page starts after; None: the last page


class TaskFinder(ABC):
    @abstractmethod
    def facts(self, ref: ProjectRef, task_ids: Sequence[str]) -> dict[str, TaskFacts]:
        """The tasks of `task_ids` that exist (one batched read of tasks and pre-labels)."""

    @abstractmethod
    def image_keys(self, ref: ProjectRef, after: str | None, limit: int) -> ImageKeyPage:
        """Up to `limit` of the project's tasks after task id `after`, as image keys."""
