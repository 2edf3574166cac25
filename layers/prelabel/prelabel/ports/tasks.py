"""Ports for tasks and runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from prelabel.domain.entities import LabelingState, ProjectRef, Run, Task


@dataclass(frozen=True, slots=True)
class TaskFilter:
    state: LabelingState | None = None
    prelabeled: bool | None = None
    dataset_id: str | None = None


@dataclass(frozen=True, slots=True)
class TaskPage:
    tasks: list[Task]
    cursor: str | None


class TaskRepository(ABC):
    @abstractmethod
    def add_many(self, tasks: Sequence[Task]) -> None: ...

    @abstractmethod
    def get(self, ref: ProjectRef, task_id: str) -> Task: ...

    @abstractmethod
    def list_tasks(
        self, ref: ProjectRef, flt: TaskFilter, limit: int, cursor: str | None
    ) -> TaskPage: ...

    @abstractmethod
    def delete_dataset_tasks(self, ref: ProjectRef, dataset_id: str) -> int: ...

    @abstractmethod
    def move(
        self, ref: ProjectRef, task_ids: Sequence[str], source: LabelingState, target: LabelingState
    ) -> list[str]:
        """Move each task that is in `source`; returns the ids that moved."""

    @abstractmethod
    def ids_in_state(self, ref: ProjectRef, state: LabelingState) -> list[str]: ...

    @abstractmethod
    def count_eligible(self, ref: ProjectRef) -> int:
        """Tasks WAITING with no pre-label state: a query of the sparse index."""


class RunRepository(ABC):
    @abstractmethod
    def get(self, ref: ProjectRef, run_id: str) -> Run: ...

    @abstractmethod
    def latest(self, ref: ProjectRef) -> Run | None: ...
