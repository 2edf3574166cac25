"""What a validation answers (READY or FAILED with a reason), its limits, and the declared
metadata read as the descriptor the server will load the file with: shared by the parent
(validation.py) and the child that opens the file (validation_child.py, model_checks.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prelabel_detector.descriptor import UPLOAD_FAMILIES, Descriptor, DescriptorError

READY = "READY"
FAILED = "FAILED"


@dataclass(frozen=True)
class Limits:
    # The child's whole address space: the interpreter with ONNX Runtime and OpenCV takes
    # about 0.6 GB before the model, and a 512 MB model about three times its size.
    memory_mb: int = 4096
    seconds: float = 120.0
    max_file_mb: int = 512
    # What the model's tensors may declare in all (a lie beyond this is never allocated).
    max_tensor_mb: int = 1024


@dataclass(frozen=True)
class TensorSummary:
    name: str
    shape: list[int | str | None]
    dtype: str


@dataclass(frozen=True)
class ValidationResult:
    status: str  # READY or FAILED
    reason: str | None = None  # for people, when FAILED
    sha256: str | None = None
    size_bytes: int | None = None
    opset: int | None = None
    inputs: list[TensorSummary] = field(default_factory=list)
    outputs: list[TensorSummary] = field(default_factory=list)
    layout: str | None = None  # how the decoder reads the outputs
    load_ms: float | None = None  # ONNX Runtime session creation
    probe_ms: float | None = None  # one probe image: prepare, run, decode, NMS
    probe_detections: int | None = None
    peak_memory_bytes: int | None = None  # the child's peak resident memory
    wall_ms: float | None = None  # the whole validation, child start included
    detail: str | None = None  # the child's last log lines when it ended without a result

    @property
    def ready(self) -> bool:
        return self.status == READY

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ValidationResult:
        tensors = {
            key: [TensorSummary(t["name"], list(t["shape"]), t["dtype"]) for t in doc.get(key, [])]
            for key in ("inputs", "outputs")
        }
        return cls(**{**doc, **tensors})


def failed(reason: str, **found: Any) -> ValidationResult:
    return ValidationResult(FAILED, reason, **found)


def declared_descriptor(path: Path, declared: Mapping[str, Any]) -> Descriptor:
    """The declaration as the descriptor the server will load the file with."""
    family = declared.get("family")
    if family not in UPLOAD_FAMILIES:
        raise DescriptorError(f"family {family!r} is not one of {UPLOAD_FAMILIES}")
    doc = {
        "name": "validation",
        "version": "",
        **declared,
        "weights": {"model": path.name},
    }
    return Descriptor.from_dict(doc, path.parent)
