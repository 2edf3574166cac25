"""Ports of the pre-labeling workflow: runs, claims and commits, images, detector, orchestration."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from prelabel.detector_wire import ImageResult
from prelabel.domain.entities import Label, ProjectRef, Run, RunStatus


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


@dataclass(slots=True)
class BatchCommit:
    """Everything one batch writes, in one transaction (see DynamoClaimStore.commit)."""

    item: BatchItem
    done: list[DoneTask] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    skipped_quota: int = 0
    withdrawn: int = 0


@dataclass(frozen=True, slots=True)
class CommitResult:
    committed: bool
    already_committed: bool = False
    quota_left: int | None = None
    lost_task_ids: tuple[str, ...] = ()


class RunStore(ABC):
    @abstractmethod
    def create(self, run: Run) -> bool:
        """Store the run and make it the project's active run, atomically; False if one is."""

    @abstractmethod
    def find(self, ref: ProjectRef, run_id: str) -> Run | None: ...

    @abstractmethod
    def set_execution(self, ref: ProjectRef, run_id: str, execution_arn: str) -> None: ...

    @abstractmethod
    def set_total(self, ref: ProjectRef, run_id: str, total: int) -> None: ...

    @abstractmethod
    def request_stop(self, ref: ProjectRef, run_id: str) -> bool:
        """RUNNING -> STOPPING; False if the run was not RUNNING."""

    @abstractmethod
    def finish(self, ref: ProjectRef, run_id: str, status: RunStatus, message: str | None) -> bool:
        """Active -> final status and the project's active run cleared; False if already final."""

    @abstractmethod
    def resolve_project(self, project_id: str) -> ProjectRef:
        """The console starts runs with a project id only; find its organization."""


class ClaimStore(ABC):
    @abstractmethod
    def eligible_task_ids(self, ref: ProjectRef) -> list[str]: ...

    @abstractmethod
    def eligible_images(
        self, ref: ProjectRef, task_ids: Sequence[str], run_id: str, now: float
    ) -> list[TaskImage]:
        """Those of `task_ids` still eligible and not leased to another run."""

    @abstractmethod
    def claim(
        self, ref: ProjectRef, tasks: Sequence[TaskImage], run_id: str, now: float, lease_s: int
    ) -> list[TaskImage]:
        """Lease each task to the run (conditional); returns those claimed."""

    @abstractmethod
    def release(self, ref: ProjectRef, task_ids: Sequence[str], run_id: str) -> None: ...

    @abstractmethod
    def release_all(self, ref: ProjectRef, run_id: str) -> int: ...

    @abstractmethod
    def batch_committed(self, run_id: str, batch_no: int) -> bool: ...

    @abstractmethod
    def commit(self, batch: BatchCommit) -> CommitResult:
        """Charge, label, fail, release and count in one all-or-nothing write."""


class ImageSource(ABC):
    @abstractmethod
    def fetch(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """The object's bytes; ImageUnavailable with a reason when it cannot be read."""


class ImageUnavailable(Exception):
    """A per-image problem (missing, too large, unreadable): the task fails, the run goes on."""


@dataclass(frozen=True, slots=True)
class Detections:
    model_name: str
    model_version: str
    results: list[ImageResult]


class Detector(ABC):
    @abstractmethod
    def detect(self, images: Sequence[bytes]) -> Detections:
        """One result per image, in order; DetectorUnavailable when the endpoint keeps failing."""


class DetectorUnavailable(Exception):
    """The endpoint failed after retries: the batch releases its claims untouched."""


class ManifestStore(ABC):
    @abstractmethod
    def write(self, run_id: str, items: Sequence[BatchItem]) -> tuple[str, str]:
        """Store the run's batches; returns (bucket, prefix) the Distributed Map lists."""

    @abstractmethod
    def read(self, bucket: str, key: str) -> BatchItem: ...


class Orchestrator(ABC):
    @abstractmethod
    def start(self, run_id: str, payload: dict[str, str]) -> str:
        """Start the state machine execution named `run_id`; returns its ARN."""

    @abstractmethod
    def stop(self, execution_arn: str, cause: str) -> None: ...

    @abstractmethod
    def status(self, execution_arn: str) -> str:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED."""
