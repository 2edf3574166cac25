"""Jobs: work that grows with the number of tasks, done on the workflow engine a slice at a time.

A job is one execution of the jobs state machine: a step does one bounded slice of the work and
hands back a cursor, the next step continues from it, and a last step gives the job its final
status. The job item records what the user sees: kind, status, progress, result or error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from prelabel.domain.entities import ProjectRef
from prelabel.domain.slices import SliceItem


class JobKind(StrEnum):
    IMPORT = "import"
    MOVE = "move"
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"
    EXPORT = "export"
    # Moves a legacy project's tasks (one partition) to shards.
    RESHARD = "reshard"
    # Reads a review tool's export, matches its images to tasks and stores their reviewed labels.
    REVIEWED_IMPORT = "reviewed_import"
    # The quality report: pre-labels against reviewed labels, per class.
    QUALITY = "quality"
    # Draws a review sample (stratified by class) and writes it as a review tool's job file.
    REVIEW_SAMPLE = "review_sample"


class JobStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class ProgressUnit(StrEnum):
    """What a job's `done` and `total` count."""

    OBJECTS = "objects"  # S3 objects listed (import by prefix)
    BYTES = "bytes"  # bytes of the manifest read (import by manifest)
    TASKS = "tasks"  # tasks moved, removed, exported or moved to shards
    IMAGES = "images"  # images of a reviewed-labels file matched and stored


@dataclass(frozen=True, slots=True)
class Job:
    project: ProjectRef
    job_id: str
    kind: JobKind
    status: JobStatus
    created_at: str
    # What the job works on (dataset_id, from/to states, export format): strings only.
    params: dict[str, str] = field(default_factory=dict)
    done: int = 0
    total: int | None = None
    unit: ProgressUnit = ProgressUnit.TASKS
    # Figures once it ended (tasks created, moved, removed; the export's file and summary; a
    # reviewed-labels import's report): small JSON values.
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    finished_at: str | None = None
    execution_arn: str | None = None

    @property
    def percent(self) -> float | None:
        if self.status is JobStatus.SUCCEEDED:
            return 100.0
        if not self.total:
            return None
        return round(min(100.0, 100.0 * self.done / self.total), 1)

    @property
    def running(self) -> bool:
        return self.status is JobStatus.RUNNING


@dataclass(frozen=True, slots=True)
class SliceProgress:
    """Where a job stands after a slice, and whether that slice was its last."""

    done: int
    total: int | None
    unit: ProgressUnit
    finished: bool


@dataclass(frozen=True, slots=True)
class SliceRound:
    """Slices to run at the same time before the job's next step (`name` tells a job's rounds
    apart)."""

    name: str
    items: tuple[SliceItem, ...]


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What one step hands the state machine: whether the job's work is done, where the next
    step goes on (an opaque JSON text), why the job cannot go on, if it cannot, and the slices
    to run in parallel before the next step, if any (a sliced job: services/jobs/slices.py)."""

    done: bool
    cursor: str
    failure: str | None = None
    slices: SliceRound | None = None


def encode_cursor(values: dict[str, Any]) -> str:
    return json.dumps(values, separators=(",", ":"), sort_keys=True)


def decode_cursor(text: str) -> dict[str, Any]:
    """The cursor's values; {} for the first step (empty text)."""
    if not text:
        return {}
    values = json.loads(text)
    if not isinstance(values, dict):
        raise ValueError(f"a job cursor is a JSON object, not {type(values).__name__}")
    return values
