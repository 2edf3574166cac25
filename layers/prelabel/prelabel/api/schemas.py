"""Request and response bodies of the HTTP API (pydantic: validated, size-limited, strict)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
)

from prelabel.domain.entities import MAX_TASK_IDS_PER_MOVE, DatasetStatus, LabelingState, RunStatus
from prelabel.domain.imports import ManifestFormat
from prelabel.domain.jobs import JobKind, JobStatus, ProgressUnit
from prelabel.domain.label_config import MAX_LABEL_ENTRIES, Geometry
from prelabel.domain.mapping import MAX_MAPPING_ROWS
from prelabel.domain.plans import Plan

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]
# Strict numbers and booleans: `true` is not 1.0 and "yes" is not true (pydantic's lax mode would
# coerce both). Strings and enums stay lax only in that an enum accepts its JSON string.
Threshold = Annotated[float, Field(ge=0.0, le=1.0, strict=True, allow_inf_nan=False)]


class Out(BaseModel):
    """An answer's schema. Its validator is built on first use, not at import: the API's cold
    start then pays for the models its first request uses, not for all of them."""

    model_config = ConfigDict(defer_build=True)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class LabelEntryIn(Strict):
    id: Id
    name: Name
    geometry: Geometry


class ProjectCreate(Strict):
    name: Name
    label_config: Annotated[list[LabelEntryIn], Field(max_length=MAX_LABEL_ENTRIES)]


class LabelConfigReplace(Strict):
    label_config: Annotated[list[LabelEntryIn], Field(max_length=MAX_LABEL_ENTRIES)]


class DatasetConnect(Strict):
    """A prefix of the bucket (`prefix`, "" or absent for the whole bucket), or a manifest
    object in it (`manifest_key` with `manifest_format`), not both."""

    bucket: Annotated[
        str, StringConstraints(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]+$")
    ]
    prefix: Annotated[str, StringConstraints(max_length=1024)] | None = None
    manifest_key: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    manifest_format: ManifestFormat | None = None


class TaskMove(Strict):
    from_state: Annotated[LabelingState, Field(alias="from")]
    to_state: Annotated[LabelingState, Field(alias="to")]
    task_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_TASK_IDS_PER_MOVE)] | None = (
        None
    )
    all: StrictBool = False


class MappingRowIn(Strict):
    detector_class: (
        Annotated[StrictStr, StringConstraints(max_length=64)]
        | Annotated[StrictInt, Field(ge=-1_000_000, le=1_000_000)]
    )
    entry_id: Id
    min_confidence: Threshold | None = None


class MappingReplace(Strict):
    rows: Annotated[list[MappingRowIn], Field(max_length=MAX_MAPPING_ROWS)]
    default_threshold: Threshold | None = None


# Responses


class LabelEntryOut(Out):
    id: str
    name: str
    geometry: Geometry


class MappingRowOut(Out):
    detector_class: str
    class_id: int
    entry_id: str
    entry_name: str
    min_confidence: float | None
    effective_threshold: float


class MappingOut(Out):
    rows: list[MappingRowOut]
    default_threshold: float
    bbox_entries: list[LabelEntryOut]


class ProjectOut(Out):
    project_id: str
    name: str
    label_config: list[LabelEntryOut]
    default_threshold: float
    mapping_rows: int
    active_run_id: str | None
    created_at: str


class JobProgressOut(Out):
    done: int
    total: int | None = Field(description="Unknown while a prefix is still being listed")
    unit: ProgressUnit
    percent: float | None


class JobOut(Out):
    job_id: str
    kind: JobKind
    status: JobStatus
    params: dict[str, str]
    progress: JobProgressOut
    result: dict[str, Any] = Field(
        description="Figures once it ended: tasks/images/skipped (import), moved, removed, "
        "the export's format and summary, or a reviewed-labels import's report"
    )
    error: str | None
    created_at: str
    finished_at: str | None


class JobListOut(Out):
    jobs: list[JobOut]


class SkippedOut(Out):
    count: int
    description: str
    examples: list[str] = Field(description="Up to 100 of the keys (or manifest lines)")


class ImportReportOut(Out):
    objects: int = Field(description="Objects (or manifest lines) the import looked at")
    images: int = Field(description="Of those, images that became tasks")
    skipped: dict[str, SkippedOut] = Field(description="Per skip reason")


class DatasetOut(Out):
    dataset_id: str
    bucket: str
    prefix: str | None
    manifest_key: str | None
    manifest_format: ManifestFormat | None
    status: DatasetStatus
    failure: str | None
    task_count: int
    generation: int
    connected_at: str
    job_id: str | None
    report: ImportReportOut | None
    job: JobOut | None = Field(
        default=None, description="The job working on it, or the last one (single reads only)"
    )


class LabelOut(Out):
    label_id: str
    entry_id: str
    entry_name: str
    box: list[float]
    detector_class: str
    score: float
    model_name: str
    model_version: str
    source: str


class TaskOut(Out):
    task_id: str
    dataset_id: str
    image_key: str
    state: LabelingState
    prelabeled: bool
    prelabel_state: str | None
    prelabel_reason: str | None
    label_count: int
    review_priority: int | None = Field(
        description="A pre-labeled task's review priority, lowest reviewed first (what "
        "order=review sorts by; docs/quality.md); null without a pre-label"
    )


class TaskDetailOut(TaskOut):
    bucket: str
    image_width: int | None
    image_height: int | None
    labels: list[LabelOut]


class TaskPageOut(Out):
    tasks: list[TaskOut]
    cursor: str | None


class MovedOut(Out):
    moved: int
    task_ids: list[str]


class ExportSummaryOut(Out):
    filename: str
    images: int
    annotations: int
    skipped_images: int
    dropped_labels: int


class ExportLinkOut(Out):
    url: str = Field(description="A presigned (SigV4) GET of the export file")
    expires_in: int
    format: str
    job_id: str
    summary: ExportSummaryOut


class DetectorClassOut(Out):
    id: int
    name: str


class LimitOut(Out):
    plan: Plan
    monthly_limit: int
    remaining: int
    period: str


class RunProgressOut(Out):
    run_id: str
    status: RunStatus
    total: int
    labeled: int
    failed: int
    skipped_quota: int
    left: int
    percent: float
    started_at: str
    finished_at: str | None
    message: str | None


class RunListOut(Out):
    runs: list[RunProgressOut] = Field(description="Newest first")


class CountsOut(Out):
    """The project's counters, kept by the writes that change them: one read at any size."""

    backlog: int
    waiting: int
    in_progress: int
    completed: int
    skipped: int
    total: int
    eligible: int = Field(description="WAITING without a pre-label: what a run would take")
    prelabeled: int
    failed: int


class AssistantOut(Out):
    project_id: str
    mapping: MappingOut
    limit: LimitOut
    eligible_tasks: int
    counts: CountsOut
    can_start: bool
    start_blockers: list[str]
    run: RunProgressOut | None


class ErrorOut(Out):
    """Every 4xx and 5xx answer. A deployed API Gateway's own refusals (its 401, 413, 429 and
    5xx) carry only `message`; every answer of the API itself carries all three."""

    model_config = ConfigDict(title="Error", extra="forbid")

    code: str | None = Field(
        default=None, description="The HTTP status's name, e.g. NOT_FOUND", examples=["NOT_FOUND"]
    )
    message: str = Field(description="What is wrong, naming the field and the value")
    field: str | None = Field(
        default=None, description="The request part at fault: body, cursor, rows[0].entry_id, ..."
    )


class StartRunIn(Strict):
    confirm: StrictBool = False


class StartRunOut(Out):
    started: bool
    already_active: bool
    confirmation_required: bool
    eligible: int
    will_label: int
    message: str
    run: RunProgressOut | None
