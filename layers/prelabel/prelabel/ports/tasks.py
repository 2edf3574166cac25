"""The port for tasks: one image of a project each, with its pre-label when it has one."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from prelabel.domain.entities import LabelingState, ProjectCounts, ProjectRef, Task


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
    def add_many(self, tasks: Sequence[Task]) -> None:
        """Store new tasks and count them in the project's counters, in the same writes."""

    @abstractmethod
    def get(self, ref: ProjectRef, task_id: str) -> Task:
        """The task with its pre-label; NotFound if absent."""

    @abstractmethod
    def list_tasks(
        self, ref: ProjectRef, flt: TaskFilter, limit: int, cursor: str | None
    ) -> TaskPage: ...

    @abstractmethod
    def delete_dataset_tasks(self, ref: ProjectRef, dataset_id: str) -> int:
        """Remove the dataset's tasks and their pre-labels; returns how many tasks went."""

    @abstractmethod
    def move(
        self, ref: ProjectRef, task_ids: Sequence[str], source: LabelingState, target: LabelingState
    ) -> list[str]:
        """Move each task that is in `source`; returns the ids that moved.

        Moving out of WAITING is refused (Conflict) while a run is active: a run's tasks stay
        as they were when it started.
        """

    @abstractmethod
    def ids_in_state(self, ref: ProjectRef, state: LabelingState) -> Iterator[str]: ...

    @abstractmethod
    def counts(self, ref: ProjectRef) -> ProjectCounts:
        """The project's counters, kept by the writes that change them: one read at any size."""

    @abstractmethod
    def eligible_ids(self, ref: ProjectRef) -> Iterator[str]:
        """Tasks WAITING without a pre-label, in task-id order."""
