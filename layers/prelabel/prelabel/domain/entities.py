"""The domain's records: organizations, projects, datasets, tasks, labels, runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from prelabel.domain.detector_models import ModelPick
from prelabel.domain.imports import ImportReport, ManifestFormat
from prelabel.domain.label_config import LabelEntry
from prelabel.domain.limits import Allowance
from prelabel.domain.locations import DataLocation
from prelabel.domain.mapping import DEFAULT_THRESHOLD, LabelMapping
from prelabel.domain.plans import Plan


class LabelingState(StrEnum):
    BACKLOG = "BACKLOG"
    WAITING = "WAITING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    SKIPPED = "SKIPPED"


# Task ids one move names at most (more: a move of all the tasks of a state, as a job).
MAX_TASK_IDS_PER_MOVE = 1_000


class PrelabelState(StrEnum):
    DONE = "DONE"
    FAILED = "FAILED"


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def is_active(self) -> bool:
        return self in (RunStatus.RUNNING, RunStatus.STOPPING)


AI_PRE_LABEL = "AI_PRE_LABEL"


@dataclass(frozen=True, slots=True)
class Organization:
    org_id: str
    name: str
    plan: Plan
    monthly_limit: int
    remaining: int
    period: str
    # Bucket + prefix roots an operator granted, besides the organization's own data folder.
    grants: tuple[DataLocation, ...] = ()
    # Images used in each period the monthly reset closed (YYYY-MM -> units).
    usage: Mapping[str, int] = field(default_factory=dict)

    @property
    def allowance(self) -> Allowance:
        return Allowance(self.monthly_limit, self.remaining)


@dataclass(frozen=True, slots=True)
class ProjectRef:
    """Every project-level access goes through this pair, so the org is never optional."""

    org_id: str
    project_id: str

    @property
    def key(self) -> str:
        return f"{self.org_id}#{self.project_id}"


@dataclass(frozen=True, slots=True)
class Project:
    ref: ProjectRef
    name: str
    label_config: tuple[LabelEntry, ...]
    mapping: LabelMapping = field(default_factory=lambda: LabelMapping(()))
    default_threshold: float = DEFAULT_THRESHOLD
    active_run_id: str | None = None
    created_at: str = ""
    # The organization's own model the project uses; None: the built-in COCO detector.
    model: ModelPick | None = None


class DatasetStatus(StrEnum):
    IMPORTING = "IMPORTING"
    READY = "READY"
    FAILED = "FAILED"
    REMOVING = "REMOVING"

    @property
    def busy(self) -> bool:
        """A job works on the dataset: another one waits until it ends."""
        return self in (DatasetStatus.IMPORTING, DatasetStatus.REMOVING)


@dataclass(frozen=True, slots=True)
class Dataset:
    """Images in S3 given as a prefix (`prefix`) or as a manifest object (`manifest_key` in
    `manifest_format`, in `bucket`); `generation` rises with every reconnect, so fresh tasks
    get fresh ids. `job_id` is the job that works or last worked on it."""

    project: ProjectRef
    dataset_id: str
    bucket: str
    prefix: str | None
    task_count: int
    connected_at: str
    status: DatasetStatus = DatasetStatus.READY
    manifest_key: str | None = None
    manifest_format: ManifestFormat | None = None
    generation: int = 0
    job_id: str | None = None
    failure: str | None = None
    report: ImportReport | None = None

    @property
    def source(self) -> str:
        if self.manifest_key is not None:
            return f"s3://{self.bucket}/{self.manifest_key}"
        return f"s3://{self.bucket}/{self.prefix or ''}"


@dataclass(frozen=True, slots=True)
class Box:
    x1: float
    y1: float
    x2: float
    y2: float

    def as_list(self) -> list[float]:
        return [self.x1, self.y1, self.x2, self.y2]


@dataclass(frozen=True, slots=True)
class Label:
    label_id: str
    entry_id: str
    entry_name: str
    box: Box
    detector_class: str
    score: float
    model_name: str
    model_version: str
    source: str = AI_PRE_LABEL


@dataclass(frozen=True, slots=True)
class Task:
    project: ProjectRef
    task_id: str
    dataset_id: str
    bucket: str
    image_key: str
    state: LabelingState = LabelingState.BACKLOG
    prelabel_state: PrelabelState | None = None
    prelabel_reason: str | None = None
    labels: tuple[Label, ...] = ()
    image_width: int | None = None
    image_height: int | None = None
    created_at: str = ""
    # The run whose batch committed this task's pre-label state (exports name it).
    prelabel_run_id: str | None = None
    # A pre-labeled task's review priority, lowest first (prelabel.quality.priority); None
    # without a pre-label or when it failed.
    review_priority: int | None = None

    @property
    def prelabeled(self) -> bool:
        return self.prelabel_state is PrelabelState.DONE


@dataclass(frozen=True, slots=True)
class ProjectCounts:
    """Tasks per labeling state and per pre-label outcome; `eligible` = WAITING, no pre-label."""

    by_state: dict[LabelingState, int] = field(default_factory=dict)
    eligible: int = 0
    prelabeled: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


@dataclass(frozen=True, slots=True)
class RunCounters:
    total: int = 0
    labeled: int = 0
    failed: int = 0
    skipped_quota: int = 0

    @property
    def left(self) -> int:
        return max(0, self.total - self.labeled - self.failed - self.skipped_quota)


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """The mapping as it was when the run started: later edits do not change a running run."""

    mapping: LabelMapping
    default_threshold: float
    entry_names: dict[str, str]
    batch_size: int
    # The project's model when the run started (None: the built-in detector): the worker names
    # it to the endpoint from here, never from anything a client sends.
    model: ModelPick | None = None


@dataclass(frozen=True, slots=True)
class Run:
    project: ProjectRef
    run_id: str
    status: RunStatus
    counters: RunCounters
    started_at: str
    finished_at: str | None = None
    execution_arn: str | None = None
    quota_exhausted: bool = False
    # Why the run ended FAILED, when the workflow said (e.g. "the workflow did not start").
    failure: str | None = None
