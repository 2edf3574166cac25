"""The port for reviewed labels: one set per task, kept apart from pre-labels, with a count."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from prelabel.domain.entities import ProjectRef
from prelabel.domain.reviewed_labels import ReviewedCount, ReviewWrite, TaskReview


@dataclass(frozen=True, slots=True)
class ReviewPage:
    """Reviewed label sets in task-id order, and the id the next page starts after (None:
    this was the last page)."""

    reviews: list[TaskReview]
    last: str | None


class ReviewedLabelStore(ABC):
    @abstractmethod
    def put(self, ref: ProjectRef, reviews: Sequence[TaskReview]) -> ReviewWrite:
        """Store each task's reviewed labels, replacing what another job wrote for it; a task
        that this job already wrote from another image of its file is a duplicate (left as it
        is), one written from the same image is kept (a retried step). The count changes in the
        same writes. At most one review per task id in `reviews`."""

    @abstractmethod
    def get_many(self, ref: ProjectRef, task_ids: Sequence[str]) -> dict[str, TaskReview]:
        """The reviewed labels of those tasks that have some."""

    @abstractmethod
    def page(self, ref: ProjectRef, after: str | None, limit: int) -> ReviewPage:
        """Up to `limit` reviewed label sets after task id `after` (None: from the first)."""

    @abstractmethod
    def count(self, ref: ProjectRef) -> ReviewedCount:
        """Tasks with reviewed labels and writes so far: a fixed number of reads at any size."""
