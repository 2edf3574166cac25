"""The validation job: one uploaded file becomes a version of its model, READY (packaged as the
endpoint's artifact) or FAILED with the validator's reason.

The file is streamed out of S3 with its sha256 computed on the way; files over 512 MB are
refused before anything opens them. A file whose sha256 is a version already is that version:
nothing is validated or packaged twice. The validator opens the file in a child process with
memory and time limits (prelabel_detector.validation), never in this one. Running the job
twice (a retried invocation) leaves what running it once does: the version is stored once,
finished only from VALIDATING, and the artifact's key is named by the sha256.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prelabel.domain.detector_models import (
    MAX_MODEL_BYTES,
    ModelRef,
    ModelUpload,
    ModelVersion,
    Validation,
    VersionStatus,
    artifact_key,
    upload_key,
    version_summary,
)
from prelabel.domain.errors import NotFound
from prelabel.domain.ids import now_iso
from prelabel.ports.detector_models import (
    FileTooLarge,
    ModelFiles,
    ModelRepository,
    ModelValidator,
    UploadEnd,
)

NO_FILE = "no file arrived at the upload's key; upload the file again"


def too_large(size: int) -> str:
    return f"the file has {size:,} bytes; the limit is {MAX_MODEL_BYTES:,} (512 MB)"


def fail_upload(models: ModelRepository, ref: ModelRef, upload_id: str, why: str) -> ModelUpload:
    """A VALIDATING upload ends FAILED: its job stopped or crashed. A version it had begun is
    dropped, so the same file uploaded again is validated afresh (the validator never said
    no to it)."""
    upload = models.get_upload(ref, upload_id)
    if upload.status is not VersionStatus.VALIDATING or upload.finished_at:
        return upload
    if upload.version is not None:
        models.drop_version(ref, upload.version, upload_id)
    end = UploadEnd(VersionStatus.FAILED, now_iso(), reason=why[:1000])
    models.end_upload(ref, upload_id, end)
    return models.get_upload(ref, upload_id)


@dataclass(frozen=True)
class ModelValidationJob:
    models: ModelRepository
    files: ModelFiles
    validator: ModelValidator
    # Where the file and its artifact are written while the job runs (Lambda: /tmp).
    workspace: Callable[[], tempfile.TemporaryDirectory[str]] = field(
        default=lambda: tempfile.TemporaryDirectory(prefix="prelabel-model-")
    )

    def run(self, ref: ModelRef, upload_id: str) -> ModelUpload:
        upload = self.models.get_upload(ref, upload_id)
        if upload.status is not VersionStatus.VALIDATING or upload.finished_at:
            return upload  # ended already: a repeated invocation
        try:
            self.models.get(ref)
        except NotFound:
            return fail_upload(self.models, ref, upload_id, "the model was deleted")
        with self.workspace() as tmp:
            self._validate(ref, upload, Path(tmp))
        self.files.delete(upload_key(ref, upload_id))
        return self.models.get_upload(ref, upload_id)

    def fail(self, ref: ModelRef, upload_id: str, error: str) -> ModelUpload:
        """The job's last resort (its invocation kept failing): the upload ends FAILED."""
        return fail_upload(self.models, ref, upload_id, f"the validation job failed: {error}")

    def _validate(self, ref: ModelRef, upload: ModelUpload, tmp: Path) -> None:
        path = tmp / "model.onnx"
        key = upload_key(ref, upload.upload_id)
        try:
            fetched = self.files.fetch(key, path, MAX_MODEL_BYTES)
        except FileTooLarge as exc:
            end = UploadEnd(VersionStatus.FAILED, now_iso(), None, too_large(exc.size))
            self._end(ref, upload.upload_id, end)
            return
        if fetched is None:
            end = UploadEnd(VersionStatus.FAILED, now_iso(), None, NO_FILE)
            self._end(ref, upload.upload_id, end)
            return
        begun = ModelVersion(
            ref.model_id,
            fetched.sha256,
            VersionStatus.VALIDATING,
            fetched.size,
            now_iso(),
            upload.upload_id,
        )
        version = self.models.begin_version(ref, begun)
        self.models.set_upload_version(ref, upload.upload_id, version.version)
        if version.upload_id == upload.upload_id and version.status is VersionStatus.VALIDATING:
            self._check_and_package(ref, version, path, tmp)
            version = self.models.get_version(ref, version.version) or version
        # Another upload of the same file holds the version: this one names it and ends.
        end = UploadEnd(version.status, now_iso(), version.version, version.validation.reason)
        self._end(ref, upload.upload_id, end)

    def _check_and_package(
        self, ref: ModelRef, version: ModelVersion, path: Path, tmp: Path
    ) -> None:
        model = self.models.get(ref)
        declaration = model.spec.declaration()
        verdict = self.validator.validate(path, declaration)
        if verdict.ready:
            out = tmp / "model.tar.gz"
            self.validator.package(path, declaration, model.spec.name, version.version, out)
            self.files.put(artifact_key(ref.org_id, ref.model_id, version.version), out)
        validation = Validation(verdict.reason, version_summary(verdict.figures))
        self.models.finish_version(ref, version.version, verdict.ready, validation, now_iso())

    def _end(self, ref: ModelRef, upload_id: str, end: UploadEnd) -> None:
        self.models.end_upload(ref, upload_id, end)
