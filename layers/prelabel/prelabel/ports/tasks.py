"""The port for tasks: one image of a project each, with its pre-label when it has one."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from prelabel.domain.entities import LabelingState, ProjectCounts, ProjectRef, Task
from prelabel.domain.errors import InvalidInput


class TaskOrder(StrEnum):
    ID = "id"
    # Pre-labeled tasks, those people should review first first (prelabel.quality.priority).
    REVIEW = "review"


# Eligible ids come in runs of this many from one shard unless the caller says (its batch size).
ELIGIBLE_RUN = 1000


@dataclass(frozen=True, slots=True)
class TaskFilter:
    state: LabelingState | None = None
    prelabeled: bool | None = None
    dataset_id: str | None = None
    order: TaskOrder = TaskOrder.ID

    def __post_init__(self) -> None:
        if self.order is TaskOrder.REVIEW:
            _check_review_filter(self)


def _check_review_filter(flt: TaskFilter) -> None:
    """Review order reads the review index and the pre-label partitions, which know neither a
    task's state nor its dataset: a filter on those could read the whole project for a page."""
    refused = (
        ("state", flt.state is not None, "the review index does not hold tasks' states"),
        ("dataset_id", flt.dataset_id is not None, "the review index does not hold datasets"),
        ("prelabeled", flt.prelabeled is False, "review order lists pre-labeled tasks only"),
    )
    for name, given, why in refused:
        if given:
            raise InvalidInput(
                f"{name}: cannot be combined with order=review ({why}); leave {name} out",
                field=name,
            )


@dataclass(frozen=True, slots=True)
class Move:
    """Tasks from `source` to `target`. With `job_id`, each write also adds what it moved to
    that job's progress (to the progress of its slice `slice`, (phase, number), when given),
    so a job's count is exact even when a step is retried."""

    source: LabelingState
    target: LabelingState
    job_id: str | None = None
    slice: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class IdRange:
    """Ids in id order after `after` (None: from the first), at most `limit` (None: all), of
    one part of the project's tasks (None: of all; see `TaskRepository.parts`)."""

    after: str | None = None
    limit: int | None = None
    part: int | None = None


@dataclass(frozen=True, slots=True)
class TaskSpan:
    """The tasks whose ids lie in [first, before) (None: open), in id order."""

    first: str | None = None
    before: str | None = None


@dataclass(frozen=True, slots=True)
class Removal:
    """What one bounded removal did: tasks removed, and whether the dataset still lists some."""

    removed: int
    left: bool


@dataclass(frozen=True, slots=True)
class Sharding:
    """How a project's tasks are stored: spread over `shards` partitions, or (None) all in the
    one partition of a legacy project; `moving_job` is the job moving a legacy project's tasks
    to shards, while it does (no other write goes then)."""

    shards: int | None
    moving_job: str | None = None


@dataclass(frozen=True, slots=True)
class TaskPage:
    tasks: list[Task]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class PrelabelClasses:
    """A slice of the pre-labeled tasks: each with its boxes per label entry, in task-id order,
    and the id the next slice starts after (None: this was the last)."""

    tasks: list[tuple[str, dict[str, int]]]
    after: str | None


class TaskRepository(ABC):
    @abstractmethod
    def add_many(self, tasks: Sequence[Task]) -> None:
        """Store new tasks and count them in the project's counters, in the same writes."""

    @abstractmethod
    def add_dataset_tasks(
        self, ref: ProjectRef, dataset_id: str, job_id: str, tasks: Sequence[Task]
    ) -> int:
        """Store new tasks of one dataset, counted in the project's counters and the dataset's
        `task_count` in the same writes, while `job_id` owns the dataset (Conflict otherwise).
        Ids that exist already are left as they are and not counted again; returns how many
        were new."""

    @abstractmethod
    def get(self, ref: ProjectRef, task_id: str) -> Task:
        """The task with its pre-label; NotFound if absent."""

    @abstractmethod
    def list_tasks(
        self, ref: ProjectRef, flt: TaskFilter, limit: int, cursor: str | None
    ) -> TaskPage: ...

    @abstractmethod
    def get_many(self, ref: ProjectRef, task_ids: Sequence[str]) -> list[Task]:
        """The tasks of `task_ids` that exist, with their pre-labels, in that order."""

    @abstractmethod
    def prelabel_classes(self, ref: ProjectRef, after: str | None, limit: int) -> PrelabelClasses:
        """Up to `limit` pre-labeled (DONE) tasks after `after` in task-id order, with their
        boxes per label entry: one pass over the pre-labels, a slice at a time."""

    @abstractmethod
    def delete_dataset_tasks(
        self,
        ref: ProjectRef,
        dataset_id: str,
        job_id: str,
        limit: int,
        part: int | None = None,
        slice: tuple[int, int] | None = None,
    ) -> Removal:
        """Remove up to about `limit` of the dataset's tasks (of one part of the project's
        tasks, or of all) with their pre-labels and reviewed labels, each write with the
        counters (the reviewed-label counts included) and the dataset's `task_count`, and the
        progress of the job's slice `slice` when given, while `job_id` owns the dataset and no
        run is active (Conflict otherwise)."""

    @abstractmethod
    def move(self, ref: ProjectRef, task_ids: Sequence[str], move: Move) -> list[str]:
        """Move each task that is in `move.source`; returns the ids that moved.

        Moving out of WAITING is refused (Conflict) while a run is active: a run's tasks stay
        as they were when it started.
        """

    @abstractmethod
    def ids_in_state(
        self, ref: ProjectRef, state: LabelingState, span: IdRange | None = None
    ) -> Iterator[str]:
        """Task ids in `state`, in id order, within `span` (None: all of them)."""

    @abstractmethod
    def counts(self, ref: ProjectRef) -> ProjectCounts:
        """The project's counters, kept by the writes that change them: one read at any size."""

    @abstractmethod
    def eligible_ids(self, ref: ProjectRef, run: int = ELIGIBLE_RUN) -> Iterator[str]:
        """Tasks WAITING without a pre-label, each once: `run` tasks of one storage partition
        (shard) at a time, from the partitions in turn, then what is left of each, together.
        Cut into batches of `run`, each batch then writes one partition, and batches that
        follow each other (and run at the same time) write different ones."""

    def parts(self, ref: ProjectRef) -> int:
        """Into how many independent parts the project's tasks fall (its shards; 1 for a
        legacy project): each part's tasks and counters are written apart from the others',
        so jobs work on parts at the same time."""
        return self.sharding(ref).shards or 1

    def tasks_in_span(self, ref: ProjectRef, span: TaskSpan, *, labels: bool) -> Iterator[Task]:
        """The project's tasks in `span`, in id order, with their pre-labels (`labels`) or
        without (then cheaper: their image is all a caller needs)."""
        cursor: str | None = None
        while True:
            page = self.list_tasks(ref, TaskFilter(), 500, cursor)
            for task in page.tasks:
                if span.before is not None and task.task_id >= span.before:
                    return
                if span.first is None or task.task_id >= span.first:
                    yield task
            cursor = page.cursor
            if cursor is None:
                return

    # --- moving a legacy project's tasks to shards (a reshard job) ---------------------------

    @abstractmethod
    def sharding(self, ref: ProjectRef) -> Sharding: ...

    @abstractmethod
    def begin_resharding(self, ref: ProjectRef, job_id: str, taking_over: str | None) -> None:
        """Mark the legacy project's tasks as being moved to shards by `job_id` (taking over
        from `taking_over`, a job that ended without finishing); from then on only that job
        writes tasks and no run starts. Conflict if a run is active, the tasks are sharded
        already or another job moves them; NotFound if there is no such project."""

    @abstractmethod
    def reshard_slice(self, ref: ProjectRef, job_id: str, limit: int) -> Removal:
        """Move up to about `limit` tasks (with their pre-labels and their counts) to their
        shards, each in the same transaction as its counts; `left` while some remain. Conflict
        if `job_id` no longer moves the project's tasks."""

    @abstractmethod
    def end_resharding(self, ref: ProjectRef, job_id: str) -> None:
        """Once no task is left to move: the project is sharded, and writes go again."""
