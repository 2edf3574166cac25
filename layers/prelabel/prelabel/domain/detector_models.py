"""An organization's own detectors: what an uploader declares, the versions validation made of
its files, the built-in detectors beside them, and where each file lives. Pure.

A model is a declaration (name, family, input size, normalisation, class names); a version is
one ONNX file of it, named by the file's sha256 and immutable. A file goes through an upload
(UPLOADING until the client says it is in S3, VALIDATING while the validation job runs) and
becomes the version of its sha256: READY, or FAILED with the validator's reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from prelabel.domain.detector_classes import COCO_CLASS_NAMES
from prelabel.domain.errors import InvalidInput

MAX_CLASSES = 1000
MAX_CLASS_NAME = 128
# 1,000 names of up to 48 characters fit the API's 64 KiB body with the rest of the
# declaration; longer names are fine as long as all of them together stay under this.
MAX_CLASS_CHARS = 48_000
MAX_INPUT_SIDE = 4096
# What the validator opens (its own limit is the same) and what the upload form accepts.
MAX_MODEL_BYTES = 512 * 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")
BUILTIN_PREFIX = "builtin:"


class ModelFamily(StrEnum):
    YOLOX = "yolox"
    ULTRALYTICS = "ultralytics"
    BOXES_SCORES_LABELS = "boxes-scores-labels"


class Channels(StrEnum):
    RGB = "RGB"
    BGR = "BGR"


class ResizeMode(StrEnum):
    LETTERBOX_TOP_LEFT = "letterbox-top-left"
    LETTERBOX_CENTER = "letterbox-center"
    STRETCH = "stretch"


# How each family is usually trained (the detector's defaults: docs/detector.md).
DEFAULT_RESIZE = {
    ModelFamily.YOLOX: ResizeMode.LETTERBOX_TOP_LEFT,
    ModelFamily.ULTRALYTICS: ResizeMode.LETTERBOX_CENTER,
    ModelFamily.BOXES_SCORES_LABELS: ResizeMode.STRETCH,
}


class VersionStatus(StrEnum):
    UPLOADING = "UPLOADING"
    VALIDATING = "VALIDATING"
    READY = "READY"
    FAILED = "FAILED"

    @property
    def final(self) -> bool:
        return self in (VersionStatus.READY, VersionStatus.FAILED)


Triple = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Normalisation:
    """Network input = (pixel - mean) x scale per channel, pixels 0-255 in `channels` order."""

    mean: Triple = (0.0, 0.0, 0.0)
    scale: Triple = (1.0, 1.0, 1.0)
    channels: Channels = Channels.BGR
    resize: ResizeMode = ResizeMode.LETTERBOX_TOP_LEFT
    pad: int = 114

    def as_descriptor(self) -> dict[str, object]:
        """The descriptor's `normalisation` object (prelabel_detector.descriptor reads it)."""
        return {
            "mean": list(self.mean),
            "scale": list(self.scale),
            "channels": self.channels.value,
            "resize": self.resize.value,
            "pad": self.pad,
        }


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What the uploader declared: nothing of it is trusted until validation checked the file."""

    name: str
    family: ModelFamily
    input_size: tuple[int, int]  # width, height
    normalisation: Normalisation
    classes: tuple[str, ...]

    def declaration(self) -> dict[str, object]:
        """The descriptor without name, version and weights: what the validator checks."""
        return {
            "family": self.family.value,
            "input_size": list(self.input_size),
            "classes": list(self.classes),
            "normalisation": self.normalisation.as_descriptor(),
        }


def checked_spec(
    name: str,
    family: ModelFamily,
    input_size: Sequence[int],
    normalisation: Normalisation,
    classes: Sequence[str],
) -> ModelSpec:
    """The declaration, or InvalidInput naming the field and the value."""
    width, height = _input_size(input_size)
    _check_normalisation(normalisation)
    return ModelSpec(name.strip(), family, (width, height), normalisation, check_classes(classes))


def _input_size(value: Sequence[int]) -> tuple[int, int]:
    if len(value) != 2:
        raise InvalidInput(
            f"input_size: give [width, height], not {len(value)} numbers", field="input_size"
        )
    width, height = value
    for i, side in enumerate((width, height)):
        if not 32 <= side <= MAX_INPUT_SIDE:
            raise InvalidInput(
                f"input_size[{i}]: {side} is outside 32..{MAX_INPUT_SIDE} pixels",
                field=f"input_size[{i}]",
            )
    return width, height


def _check_normalisation(n: Normalisation) -> None:
    for name, values in (("mean", n.mean), ("scale", n.scale)):
        for i, v in enumerate(values):
            if not math.isfinite(v):
                raise InvalidInput(
                    f"normalisation.{name}[{i}]: {v} is not a finite number",
                    field=f"normalisation.{name}",
                )
    for i, s in enumerate(n.scale):
        if s == 0.0:
            raise InvalidInput(
                f"normalisation.scale[{i}]: 0 would erase the image", field="normalisation.scale"
            )
    if not 0 <= n.pad <= 255:
        raise InvalidInput(
            f"normalisation.pad: {n.pad} is outside 0..255", field="normalisation.pad"
        )


def check_classes(classes: Sequence[str]) -> tuple[str, ...]:
    """1 to 1,000 unique names of 1 to 128 characters (surrounding spaces dropped)."""
    if not 1 <= len(classes) <= MAX_CLASSES:
        raise InvalidInput(
            f"classes: {len(classes)} names given; a model has 1 to {MAX_CLASSES}",
            field="classes",
        )
    names = tuple(c.strip() for c in classes)
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if not 1 <= len(name) <= MAX_CLASS_NAME or not name.isprintable():
            raise InvalidInput(
                f"classes[{i}]: {name[:40]!r} must be 1 to {MAX_CLASS_NAME} printable characters",
                field=f"classes[{i}]",
            )
        if name in seen:
            raise InvalidInput(
                f"classes[{i}]: {name!r} is already classes[{seen[name]}]; names are unique",
                field=f"classes[{i}]",
            )
        seen[name] = i
    total = sum(len(n) for n in names)
    if total > MAX_CLASS_CHARS:
        raise InvalidInput(
            f"classes: {total} characters in all; at most {MAX_CLASS_CHARS}", field="classes"
        )
    return names


@dataclass(frozen=True, slots=True)
class DetectorModel:
    """An organization's model. `used_by`: the projects that picked it (kept by the same
    transaction as each pick), so a model in use cannot be deleted."""

    org_id: str
    model_id: str
    spec: ModelSpec
    created_at: str
    used_by: frozenset[str] = frozenset()
    # The version that became READY last: what a project gets when it names no version.
    latest_ready: str | None = None


@dataclass(frozen=True, slots=True)
class Validation:
    """What the validator found (or why it failed): the figures a person or a benchmark reads."""

    reason: str | None = None
    figures: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One file of a model, named by its sha256; READY ones have an artifact for the endpoint."""

    model_id: str
    version: str  # the file's sha256
    status: VersionStatus
    size_bytes: int
    created_at: str
    upload_id: str
    validation: Validation = field(default_factory=Validation)
    finished_at: str | None = None

    @property
    def ready(self) -> bool:
        return self.status is VersionStatus.READY


@dataclass(frozen=True, slots=True)
class ModelUpload:
    """A file on its way: UPLOADING until the client says it is in S3, then VALIDATING (the
    job runs) until it names its version, or FAILED before it could (no file, too large)."""

    model_id: str
    upload_id: str
    status: VersionStatus
    created_at: str
    version: str | None = None
    reason: str | None = None
    execution_arn: str | None = None
    finished_at: str | None = None


@dataclass(frozen=True, slots=True)
class ModelRef:
    """Every model access goes through this pair, so the organization is never optional."""

    org_id: str
    model_id: str


@dataclass(frozen=True, slots=True)
class BuiltinModel:
    model_id: str
    name: str
    description: str
    classes: tuple[str, ...]


BUILTIN_COCO = BuiltinModel(
    model_id=f"{BUILTIN_PREFIX}coco80",
    name="COCO-80 (built-in)",
    description="The service's own COCO detector (YOLOX-Nano on the GPU endpoint; "
    "SSD-MobileNet-v2 on a local stack), 80 classes",
    classes=COCO_CLASS_NAMES,
)
BUILTIN_MODELS: tuple[BuiltinModel, ...] = (BUILTIN_COCO,)


def builtin(model_id: str) -> BuiltinModel | None:
    return next((m for m in BUILTIN_MODELS if m.model_id == model_id), None)


@dataclass(frozen=True, slots=True)
class ModelPick:
    """The detector a project (and a run's snapshot) uses: an uploaded model's version and its
    name. A project without one uses the built-in. The classes are the model's (immutable)."""

    model_id: str
    version: str
    name: str


# Where files live in the models bucket. Uploads stay under the organization's own prefix
# until validation; READY versions become artifacts under the endpoint's model prefix.
UPLOADS_PREFIX = "uploads/"
ARTIFACTS_PREFIX = "artifacts/"


def upload_key(ref: ModelRef, upload_id: str) -> str:
    return f"{UPLOADS_PREFIX}{ref.org_id}/{ref.model_id}/{upload_id}.onnx"


def model_uploads_prefix(ref: ModelRef) -> str:
    return f"{UPLOADS_PREFIX}{ref.org_id}/{ref.model_id}/"


def target_model(org_id: str, model_id: str, version: str) -> str:
    """The TargetModel of a version: its artifact's key under the endpoint's model prefix,
    always starting with the organization the caller acts for (computed, never received)."""
    if not SHA256.match(version):
        raise InvalidInput(f"version: {version[:80]!r} is not a sha256", field="version")
    return f"{org_id}/{model_id}/{version}.tar.gz"


def artifact_key(org_id: str, model_id: str, version: str) -> str:
    return ARTIFACTS_PREFIX + target_model(org_id, model_id, version)


def model_artifacts_prefix(ref: ModelRef) -> str:
    return f"{ARTIFACTS_PREFIX}{ref.org_id}/{ref.model_id}/"


def version_summary(figures: Mapping[str, object]) -> dict[str, object]:
    """The validator's figures worth keeping on the version (the rest is in its logs)."""
    kept = (
        "layout",
        "opset",
        "load_ms",
        "probe_ms",
        "probe_detections",
        "peak_memory_bytes",
        "wall_ms",
    )
    return {k: figures[k] for k in kept if figures.get(k) is not None}
