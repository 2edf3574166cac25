"""Request and response bodies of the models routes and a project's detector (pydantic: strict,
size-limited). 1,000 class names fit the API's 64 KiB body as long as they hold at most 48,000
characters in all (48 each on average): the declaration checks that sum and names it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt, StrictStr, StringConstraints

from prelabel.api.schemas import DetectorClassOut, Id, Name, Out, Strict
from prelabel.domain.detector_models import (
    MAX_CLASS_NAME,
    MAX_CLASSES,
    MAX_INPUT_SIDE,
    Channels,
    ModelFamily,
    ResizeMode,
    VersionStatus,
)

Number = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-1e6, le=1e6)]
PerChannel = Number | Annotated[list[Number], Field(min_length=1, max_length=3)]
ClassName = Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_CLASS_NAME)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Side = Annotated[StrictInt, Field(ge=32, le=MAX_INPUT_SIDE)]


class NormalisationIn(Strict):
    """Network input = (pixel - mean) x scale, pixels 0-255 in the network's channel order;
    one number for every channel or three. `resize` defaults to the family's usual one."""

    mean: PerChannel = 0.0
    scale: PerChannel = 1.0
    channels: Channels = Channels.BGR
    resize: ResizeMode | None = None
    pad: Annotated[StrictInt, Field(ge=0, le=255)] = 114


class ModelCreate(Strict):
    name: Name
    family: ModelFamily
    input_size: Annotated[list[Side], Field(min_length=2, max_length=2)] = Field(
        description="[width, height] of the network's input, pixels"
    )
    normalisation: NormalisationIn = Field(default_factory=NormalisationIn)
    classes: Annotated[list[ClassName], Field(min_length=1, max_length=MAX_CLASSES)] = Field(
        description="The model's class names in output order (class id = index); at most "
        "48,000 characters in all"
    )


class UploadSubmit(Strict):
    upload_id: Id


class DetectorPick(Strict):
    model_id: Id = Field(description="A built-in detector's id or one of the organization's models")
    version: Sha256 | None = Field(
        default=None, description="A READY version (sha256); default: the latest READY one"
    )


# Responses


class UploadFormOut(Out):
    url: str = Field(description="POST a multipart form here: `fields`, then the file as `file`")
    fields: dict[str, str]
    key: str
    expires_in: int
    max_bytes: int


class ModelUploadOut(Out):
    upload_id: str
    status: VersionStatus
    created_at: str
    version: str | None = Field(description="The file's sha256, once the job has read it")
    reason: str | None
    finished_at: str | None
    form: UploadFormOut | None = Field(default=None, description="Only when the upload is made")


class VersionOut(Out):
    version: str = Field(description="The file's sha256")
    status: VersionStatus
    reason: str | None = Field(description="Why validation refused the file, when FAILED")
    size_bytes: int
    created_at: str
    finished_at: str | None
    validation: dict[str, str | int | float] = Field(
        description="What validation found: layout, opset, load_ms, probe_ms, peak memory, ..."
    )


class NormalisationOut(Out):
    mean: list[float]
    scale: list[float]
    channels: Channels
    resize: ResizeMode
    pad: int


class ModelSummaryOut(Out):
    model_id: str
    name: str
    builtin: bool
    description: str | None
    family: ModelFamily | None
    class_count: int
    created_at: str | None
    latest_ready: str | None = Field(description="The version a project gets by default")
    used_by: list[str] = Field(description="Projects of the organization that use it")


class ModelListOut(Out):
    models: list[ModelSummaryOut] = Field(description="Built-in detectors first, then the own")


class ModelOut(ModelSummaryOut):
    input_size: list[int] | None
    normalisation: NormalisationOut | None
    classes: list[str]
    versions: list[VersionOut] = Field(description="Oldest first")
    uploads: list[ModelUploadOut] = Field(
        description="Every file sent, oldest first: each names its version (the file's "
        "sha256) once the job has read it; one FAILED without a version never became one "
        "(no file arrived, over 512 MB, the job stopped)"
    )


class ModelCreatedOut(Out):
    model: ModelOut
    upload: ModelUploadOut


class ModelDeletedOut(Out):
    model_id: str
    files_removed: int


class DroppedRowOut(Out):
    detector_class: str
    class_id: int
    entry_id: str
    entry_name: str
    min_confidence: float | None


class ProjectDetectorOut(Out):
    project_id: str
    model_id: str
    name: str
    builtin: bool
    version: str | None = Field(description="The picked version (sha256); none for a built-in")
    classes: list[DetectorClassOut] = Field(description="What the mapping's rows may name")


class DetectorSwitchOut(ProjectDetectorOut):
    changed: bool
    kept: int = Field(description="Mapping rows kept, re-indexed to the new model's classes")
    dropped: list[DroppedRowOut] = Field(
        description="Mapping rows removed: the new model has no class of that name"
    )
