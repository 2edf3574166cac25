"""Bodies of the reviewed-labels and quality routes (pydantic: validated, size-limited)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StringConstraints

from prelabel.api.schemas import JobOut, Out, Strict
from prelabel.reviewed import ReviewFormat

BucketName = Annotated[
    str, StringConstraints(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]+$")
]


class UploadIn(Strict):
    file_name: Annotated[str, StringConstraints(min_length=1, max_length=255)] = Field(
        description="The file's name; only letters, digits, `.`, `_` and `-` are kept"
    )


class UploadOut(Out):
    url: str = Field(
        description="POST a multipart/form-data form here: every field of `fields`, then the "
        "file as the last field, `file`"
    )
    fields: dict[str, str] = Field(description="The signed policy's fields (SigV4)")
    bucket: str
    key: str = Field(description="Where the file lands: give it to POST .../reviewed-labels")
    max_bytes: int = Field(description="The largest file the policy allows")
    expires_in: int = Field(description="Seconds the form is valid for")


class ReviewedImportIn(Strict):
    key: Annotated[str, StringConstraints(min_length=1, max_length=1024)] = Field(
        description="The uploaded file's key, or any key of the organization's data locations"
    )
    bucket: BucketName | None = Field(
        default=None, description="The file's bucket; absent: the data bucket (uploads)"
    )
    format: ReviewFormat | None = Field(
        default=None, description="Absent: told from the file's first bytes and zip entries"
    )
    image_field: (
        Annotated[
            str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_$.-]+$")
        ]
        | None
    ) = Field(default=None, description="Label Studio: the data field holding the image")


class QualityStartIn(Strict):
    by_run: StrictBool = Field(
        default=False, description="Also a scope per run (run:<run id>), besides model versions"
    )


class ProportionOut(Out):
    hits: int
    n: int
    value: float | None = Field(description="hits / n; null when n is 0")
    lower: float | None = Field(description="95% Wilson lower bound; null when n is 0")


class F1Out(Out):
    value: float | None
    n: int = Field(description="True positives + false positives + misses")
    lower: float | None = Field(
        description="Harmonic mean of precision's and recall's lower bounds"
    )


class AP50Out(Out):
    value: float | None = Field(description="COCOeval's 101-point AP at IoU 0.5 (middle)")
    low: float | None
    high: float | None
    error_bound: float | None = Field(description="Half the range the score bins allow")
    reviewed: int
    detections: int


class CurvePointOut(Out):
    threshold: float
    precision: float | None
    precision_lower: float | None
    boxes: int = Field(description="Pre-labeled boxes scored at or above the threshold")
    recall: float | None
    recall_lower: float | None


class CurrentThresholdOut(Out):
    detector_class: str
    min_confidence: float | None
    effective_threshold: float


class CalibrationOut(Out):
    target: float
    reachable: bool
    threshold: float | None = Field(
        description="Reachable: the suggested threshold; not: the most convincing one seen"
    )
    precision: ProportionOut | None
    recall: ProportionOut | None
    boxes_needed: int | None = Field(
        description="Not reachable: reviewed boxes at or above `threshold` that would prove "
        "the target at the precision seen (null: no number would)"
    )
    more_boxes: int | None
    evidence_floor: float | None = Field(
        description="The lowest threshold the pre-labels cover (the runs' threshold)"
    )
    message: str


class ClassQualityOut(Out):
    entry_id: str
    entry_name: str
    mapped: bool = Field(description="Detector classes are mapped to this entry")
    reviewed: int
    predicted: int
    true_positives: int
    misses: int
    extra: int
    wrong_class: int
    confused_with: dict[str, int]
    beyond_cap: int
    min_score: float | None
    precision: ProportionOut
    recall: ProportionOut
    f1: F1Out
    ap50: AP50Out
    curve: list[CurvePointOut] = Field(description="Thresholds 0.01 ... 0.99")
    current_thresholds: list[CurrentThresholdOut]
    calibration: CalibrationOut | None


class QualitySummaryOut(Out):
    computed: bool
    job_id: str | None
    computed_at: str | None
    by_run: bool
    tasks: int = Field(description="Tasks with both pre-labels and reviewed labels")
    reviewed_only: int
    prelabeled_only: int
    scopes: list[str]
    stale: bool
    stale_reasons: list[str]
    reviewed_tasks_now: int
    prelabeled_now: int


class SuggestedRowOut(Out):
    detector_class: str
    entry_id: str
    min_confidence: float | None


class SuggestedMappingOut(Out):
    """The body of PUT /projects/{id}/mapping that applies the suggested thresholds."""

    rows: list[SuggestedRowOut]
    default_threshold: float


class QualityOut(Out):
    project_id: str
    scope: str
    target_precision: float
    message: str
    summary: QualitySummaryOut
    scope_tasks: int
    classes: list[ClassQualityOut]
    map50: AP50Out | None
    precision: ProportionOut | None
    recall: ProportionOut | None
    suggested_mapping: SuggestedMappingOut
    changed_rows: int = Field(description="Mapping rows whose threshold the suggestion changes")
    job: JobOut | None = Field(description="The quality job running now, if any")
