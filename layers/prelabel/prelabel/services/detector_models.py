"""An organization's own detectors: declare one, upload its files, start their validation,
read them (with the built-ins beside them), delete one no project uses.

A file goes straight from the client to S3 through a presigned POST for exactly one key under
the organization's own prefix (never through the API, whose body limit is 64 KiB); the client
then says it is there, and the validation job (services/model_validation.py) takes it over.
"""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.detector_models import (
    MAX_MODEL_BYTES,
    DetectorModel,
    ModelRef,
    ModelSpec,
    ModelUpload,
    ModelVersion,
    VersionStatus,
    builtin,
    model_artifacts_prefix,
    model_uploads_prefix,
    upload_key,
)
from prelabel.domain.errors import Conflict, NotAllowed, StorageError
from prelabel.domain.ids import new_id, now_iso
from prelabel.ports.detector_models import ModelFiles, ModelRepository, UploadForm
from prelabel.ports.orchestration import ExecutionGone, Orchestrator
from prelabel.services.model_validation import fail_upload

# Short: the form is asked for right before the file is sent; a slow upload asks again.
UPLOAD_FORM_SECONDS = 900
MAX_MODELS = 100
# Files tried per model (READY, FAILED and in flight together).
MAX_UPLOADS = 100
ENDED_ELSEWHERE = {"FAILED", "TIMED_OUT", "ABORTED"}


@dataclass(frozen=True, slots=True)
class UploadTicket:
    upload: ModelUpload
    form: UploadForm


@dataclass(frozen=True, slots=True)
class ModelDetail:
    model: DetectorModel
    versions: list[ModelVersion]
    # Every file sent, oldest first: each names its version once the job has read it.
    uploads: list[ModelUpload]


@dataclass(frozen=True)
class ModelService:
    models: ModelRepository
    files: ModelFiles
    # The validation job's state machine.
    launcher: Orchestrator

    def create(self, org_id: str, spec: ModelSpec) -> tuple[DetectorModel, UploadTicket]:
        if self.models.count_models(org_id) >= MAX_MODELS:
            raise NotAllowed(f"this organization has {MAX_MODELS} models; delete one first")
        model = DetectorModel(org_id, new_id("mdl"), spec, now_iso())
        upload = _new_upload(model.model_id)
        self.models.create(model, upload)
        return model, self._ticket(ModelRef(org_id, model.model_id), upload)

    def new_upload(self, ref: ModelRef) -> UploadTicket:
        """A form for another file of the model: a new version once validated."""
        self._own(ref)
        if len(self.models.uploads(ref)) >= MAX_UPLOADS:
            raise NotAllowed(f"model {ref.model_id} has had {MAX_UPLOADS} files; create a new one")
        upload = _new_upload(ref.model_id)
        self.models.add_upload(ref, upload)
        return self._ticket(ref, upload)

    def _ticket(self, ref: ModelRef, upload: ModelUpload) -> UploadTicket:
        key = upload_key(ref, upload.upload_id)
        form = self.files.upload_form(key, MAX_MODEL_BYTES, UPLOAD_FORM_SECONDS)
        return UploadTicket(upload, form)

    def submit(self, ref: ModelRef, upload_id: str) -> ModelUpload:
        """The client says the file is in S3: the validation job starts (once: a repeat
        answers the upload as it stands)."""
        self._own(ref)
        upload = self.models.get_upload(ref, upload_id)
        if upload.status is not VersionStatus.UPLOADING:
            return upload
        if not self.files.exists(upload_key(ref, upload_id)):
            raise Conflict(
                f"upload {upload_id}: no file has arrived yet; POST it to the upload form first"
            )
        if not self.models.move_upload(
            ref, upload_id, VersionStatus.UPLOADING, VersionStatus.VALIDATING
        ):
            return self.models.get_upload(ref, upload_id)
        payload = {"upload": {"orgId": ref.org_id, "modelId": ref.model_id, "uploadId": upload_id}}
        try:
            arn = self.launcher.start(upload_id, payload)
        except StorageError:
            # Back to UPLOADING: the same call again starts it.
            self.models.move_upload(
                ref, upload_id, VersionStatus.VALIDATING, VersionStatus.UPLOADING
            )
            raise
        self.models.set_upload_execution(ref, upload_id, arn)
        return self.models.get_upload(ref, upload_id)

    def list_models(self, org_id: str) -> list[DetectorModel]:
        """The organization's models, oldest first (one query: no version is read)."""
        return sorted(self.models.list_models(org_id), key=lambda m: m.created_at)

    def detail(self, ref: ModelRef) -> ModelDetail:
        self._own(ref)  # another organization's model: 404 before anything else is read
        uploads = [self._reconciled(ref, u) for u in self.models.uploads(ref)]
        versions = self.models.versions(ref)
        # The model is read after its versions: a version that reads READY was committed with
        # the model's latest_ready, so the model read now names it. Read first, a validation
        # ending in between showed a READY version beside no latest_ready.
        return ModelDetail(self._own(ref), versions, uploads)

    def _reconciled(self, ref: ModelRef, upload: ModelUpload) -> ModelUpload:
        """A VALIDATING upload whose job ended without a word (stopped, timed out, a local
        stack that stopped) is failed here, as a read of a job is."""
        if upload.status is not VersionStatus.VALIDATING or not upload.execution_arn:
            return upload
        try:
            state = self.launcher.status(upload.execution_arn)
        except ExecutionGone:
            state = "gone"
        if state not in ENDED_ELSEWHERE and state != "gone":
            return upload
        return fail_upload(self.models, ref, upload.upload_id, f"the validation job ended {state}")

    def delete(self, ref: ModelRef) -> int:
        """The model, its records and its files; how many files went."""
        model = self._own(ref)
        if model.used_by:
            names = ", ".join(sorted(model.used_by))
            raise Conflict(
                f"model {ref.model_id} is used by {len(model.used_by)} project(s) ({names}); "
                "pick another detector for them first"
            )
        self.models.delete(ref)
        removed = self.files.delete_prefix(model_artifacts_prefix(ref))
        return removed + self.files.delete_prefix(model_uploads_prefix(ref))

    def _own(self, ref: ModelRef) -> DetectorModel:
        if builtin(ref.model_id) is not None:
            raise Conflict(f"{ref.model_id} is a built-in detector: it has no files to change")
        return self.models.get(ref)


def _new_upload(model_id: str) -> ModelUpload:
    return ModelUpload(model_id, new_id("upl"), VersionStatus.UPLOADING, now_iso())
