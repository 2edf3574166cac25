"""The ports of the batch worker: the batch's tasks, its one commit, and crash bookkeeping."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from prelabel.domain.entities import Label, ProjectRef
from prelabel.quality.priority import REST, ReviewPriority


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One item of the run's manifest: what one worker invocation pre-labels."""

    org_id: str
    project_id: str
    run_id: str
    batch_no: int
    task_ids: tuple[str, ...]

    @property
    def ref(self) -> ProjectRef:
        return ProjectRef(self.org_id, self.project_id)


@dataclass(frozen=True, slots=True)
class TaskImage:
    task_id: str
    bucket: str
    image_key: str


@dataclass(frozen=True, slots=True)
class DoneTask:
    task_id: str
    labels: tuple[Label, ...]
    width: int
    height: int
    # How soon people should review it (from its boxes and the run's thresholds).
    review: ReviewPriority = REST


@dataclass(frozen=True, slots=True)
class FailedTask:
    task_id: str
    reason: str


@dataclass(slots=True)
class BatchCommit:
    """Everything one batch writes, in one transaction (see BatchStore.commit)."""

    item: BatchItem
    model: tuple[str, str] = ("", "")
    done: list[DoneTask] = field(default_factory=list)
    failed: list[FailedTask] = field(default_factory=list)
    skipped_quota: int = 0
    # Tasks of the manifest that were no longer eligible when the batch ran (moved, removed):
    # they leave the run's total.
    withdrawn: int = 0

    def drop(self, task_ids: set[str]) -> int:
        """Take tasks out of the commit; returns how many were taken."""
        before = len(self.done) + len(self.failed)
        self.done = [d for d in self.done if d.task_id not in task_ids]
        self.failed = [f for f in self.failed if f.task_id not in task_ids]
        return before - len(self.done) - len(self.failed)


@dataclass(frozen=True, slots=True)
class CommitResult:
    committed: bool
    already_committed: bool = False
    # The run no longer accepts work (stopped, finished): nothing was written.
    run_closed: bool = False
    # The limit was short: how much is left now (the caller keeps what fits).
    quota_left: int | None = None
    # Tasks that got a pre-label from elsewhere meanwhile: not this batch's to write.
    taken_task_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Suspect:
    """The task whose image was being prepared, alone, when a worker last died."""

    task_id: str
    crashes: int


class BatchStore(ABC):
    @abstractmethod
    def batch_committed(self, run_id: str, batch_no: int) -> bool: ...

    @abstractmethod
    def batch_images(self, ref: ProjectRef, task_ids: Sequence[str]) -> list[TaskImage]:
        """Those of `task_ids` that exist, are WAITING and have no pre-label, in that order."""

    @abstractmethod
    def commit(self, batch: BatchCommit) -> CommitResult:
        """One all-or-nothing write: the charge, the pre-labels, the run's and the project's
        counters and the batch's receipt, conditioned on the run still RUNNING, the limit, each
        task still without a pre-label and the receipt absent."""


class CrashLog(ABC):
    """Where a worker notes the image it is about to decode alone, so that the next attempt
    knows which image was in hand when the process died."""

    @abstractmethod
    def suspect(self, run_id: str, batch_no: int) -> Suspect | None: ...

    @abstractmethod
    def note(self, run_id: str, batch_no: int, suspect: Suspect) -> None: ...

    @abstractmethod
    def clear(self, run_id: str, batch_no: int) -> None: ...
