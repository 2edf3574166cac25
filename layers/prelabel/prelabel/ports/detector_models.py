"""Ports for an organization's own detectors: their records, their files, and the validator
that opens a file (in a process of its own) and packages what it accepts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prelabel.domain.detector_models import (
    DetectorModel,
    ModelPick,
    ModelRef,
    ModelUpload,
    ModelVersion,
    Validation,
    VersionStatus,
)
from prelabel.domain.entities import ProjectRef
from prelabel.domain.mapping import LabelMapping


@dataclass(frozen=True, slots=True)
class UploadEnd:
    """What an upload ends with: its status, the version it named (once its sha256 is known)
    and why it failed, if it did."""

    status: VersionStatus
    finished_at: str
    version: str | None = None
    reason: str | None = None


class ModelRepository(ABC):
    @abstractmethod
    def count_models(self, org_id: str) -> int: ...

    @abstractmethod
    def create(self, model: DetectorModel, upload: ModelUpload) -> None:
        """The model and its first upload, together."""

    @abstractmethod
    def get(self, ref: ModelRef) -> DetectorModel:
        """NotFound if absent or another organization's (the same words)."""

    @abstractmethod
    def list_models(self, org_id: str) -> list[DetectorModel]: ...

    @abstractmethod
    def versions(self, ref: ModelRef) -> list[ModelVersion]:
        """Oldest first."""

    @abstractmethod
    def uploads(self, ref: ModelRef) -> list[ModelUpload]:
        """Oldest first."""

    @abstractmethod
    def add_upload(self, ref: ModelRef, upload: ModelUpload) -> None:
        """NotFound if the model is gone."""

    @abstractmethod
    def get_upload(self, ref: ModelRef, upload_id: str) -> ModelUpload:
        """NotFound if absent."""

    @abstractmethod
    def move_upload(
        self, ref: ModelRef, upload_id: str, source: VersionStatus, target: VersionStatus
    ) -> bool:
        """`source` -> `target`; False (nothing written) if the upload was not in `source`."""

    @abstractmethod
    def set_upload_execution(self, ref: ModelRef, upload_id: str, execution_arn: str) -> None: ...

    @abstractmethod
    def set_upload_version(self, ref: ModelRef, upload_id: str, version: str) -> None:
        """The version (sha256) the upload's file is, known once it has been read."""

    @abstractmethod
    def end_upload(self, ref: ModelRef, upload_id: str, end: UploadEnd) -> bool:
        """A VALIDATING upload ends (`finished_at` set); False if it had ended already."""

    @abstractmethod
    def get_version(self, ref: ModelRef, version: str) -> ModelVersion | None: ...

    @abstractmethod
    def begin_version(self, ref: ModelRef, version: ModelVersion) -> ModelVersion:
        """Store `version` (VALIDATING) unless one of that sha256 exists: the stored one."""

    @abstractmethod
    def finish_version(
        self, ref: ModelRef, version: str, ready: bool, validation: Validation, finished_at: str
    ) -> bool:
        """VALIDATING -> READY (the model's latest READY too) or FAILED; False if not
        VALIDATING any more."""

    @abstractmethod
    def drop_version(self, ref: ModelRef, version: str, upload_id: str) -> bool:
        """Remove a version still VALIDATING for `upload_id` (its job failed: the same file
        uploaded again is validated afresh); False if it is not that."""

    @abstractmethod
    def assign(
        self,
        project: ProjectRef,
        old: ModelPick | None,
        new: ModelPick | None,
        mapping: LabelMapping,
    ) -> None:
        """The project's detector and its mapping, with each model's `used_by`, in one write.
        Conflict if a run is active or the project's detector is no longer `old`; NotFound if
        the new model is gone; Conflict if its version is not READY."""

    @abstractmethod
    def delete(self, ref: ModelRef) -> None:
        """The model and its versions' and uploads' records. Conflict while a project uses
        it; NotFound if absent."""


@dataclass(frozen=True, slots=True)
class UploadForm:
    """A presigned POST: the browser or client posts `fields` and then the file to `url`."""

    url: str
    fields: Mapping[str, str]
    key: str
    expires_in: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class Fetched:
    size: int
    sha256: str


class FileTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


class ModelFiles(ABC):
    @abstractmethod
    def upload_form(self, key: str, max_bytes: int, expires_in: int) -> UploadForm:
        """A presigned POST for exactly `key`, of 1 to `max_bytes` bytes."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def fetch(self, key: str, destination: Path, max_bytes: int) -> Fetched | None:
        """The object streamed to `destination`, its sha256 computed on the way; None if
        absent; FileTooLarge (nothing kept) past `max_bytes`."""

    @abstractmethod
    def put(self, key: str, source: Path) -> None: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Every object under `prefix`; how many."""


@dataclass(frozen=True, slots=True)
class Verdict:
    ready: bool
    reason: str | None = None
    figures: Mapping[str, object] = field(default_factory=dict)


class ModelValidator(ABC):
    """The detector's validator: it opens the file in a child process with memory and time
    limits, never in the caller's."""

    @abstractmethod
    def validate(self, path: Path, declaration: Mapping[str, object]) -> Verdict: ...

    @abstractmethod
    def package(
        self,
        path: Path,
        declaration: Mapping[str, object],
        name: str,
        version: str,
        out: Path,
    ) -> Path:
        """The artifact the endpoint loads (model.tar.gz: descriptor.json + model.onnx)."""
