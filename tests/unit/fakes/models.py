"""Fakes of an organization's models: their records (with the conditions DynamoDB checks), their
files in S3, and a validator that answers what a test scripts."""

from __future__ import annotations

import dataclasses
import hashlib
import tarfile
from collections.abc import Callable, Mapping
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
from prelabel.domain.errors import Conflict, NotFound
from prelabel.domain.mapping import LabelMapping
from prelabel.ports.detector_models import (
    Fetched,
    FileTooLarge,
    ModelFiles,
    ModelRepository,
    ModelValidator,
    UploadEnd,
    UploadForm,
    Verdict,
)
from tests.unit.fakes.store import MemoryDb


class MemoryModels(ModelRepository):
    """Keyed by organization as the table is: another organization's model is not found."""

    def __init__(self, db: MemoryDb) -> None:
        self.db = db
        self.models: dict[ModelRef, DetectorModel] = {}
        self.latest: dict[ModelRef, str] = {}
        self.version_items: dict[tuple[ModelRef, str], ModelVersion] = {}
        self.upload_items: dict[tuple[ModelRef, str], ModelUpload] = {}

    def count_models(self, org_id: str) -> int:
        return sum(1 for r in self.models if r.org_id == org_id)

    def create(self, model: DetectorModel, upload: ModelUpload) -> None:
        ref = ModelRef(model.org_id, model.model_id)
        with self.db.lock:
            if ref in self.models:
                raise Conflict(f"model {model.model_id!r} exists")
            self.models[ref] = model
            self.upload_items[(ref, upload.upload_id)] = upload

    def get(self, ref: ModelRef) -> DetectorModel:
        if ref not in self.models:
            raise NotFound(f"model {ref.model_id!r} not found")
        return dataclasses.replace(self.models[ref], latest_ready=self.latest.get(ref))

    def list_models(self, org_id: str) -> list[DetectorModel]:
        return [self.get(r) for r in self.models if r.org_id == org_id]

    def versions(self, ref: ModelRef) -> list[ModelVersion]:
        found = [v for (r, _), v in self.version_items.items() if r == ref]
        return sorted(found, key=lambda v: v.created_at)

    def uploads(self, ref: ModelRef) -> list[ModelUpload]:
        return sorted(
            (u for (r, _), u in self.upload_items.items() if r == ref), key=lambda u: u.upload_id
        )

    def add_upload(self, ref: ModelRef, upload: ModelUpload) -> None:
        with self.db.lock:
            self.get(ref)
            self.upload_items[(ref, upload.upload_id)] = upload

    def get_upload(self, ref: ModelRef, upload_id: str) -> ModelUpload:
        if (ref, upload_id) not in self.upload_items:
            raise NotFound(f"upload {upload_id!r} not found")
        return self.upload_items[(ref, upload_id)]

    def _change_upload(self, ref: ModelRef, upload_id: str, **changes: object) -> None:
        upload = self.get_upload(ref, upload_id)
        self.upload_items[(ref, upload_id)] = dataclasses.replace(upload, **changes)  # type: ignore[arg-type]

    def move_upload(
        self, ref: ModelRef, upload_id: str, source: VersionStatus, target: VersionStatus
    ) -> bool:
        with self.db.lock:
            if self.get_upload(ref, upload_id).status is not source:
                return False
            self._change_upload(ref, upload_id, status=target)
            return True

    def set_upload_execution(self, ref: ModelRef, upload_id: str, execution_arn: str) -> None:
        self._change_upload(ref, upload_id, execution_arn=execution_arn)

    def set_upload_version(self, ref: ModelRef, upload_id: str, version: str) -> None:
        self._change_upload(ref, upload_id, version=version)

    def end_upload(self, ref: ModelRef, upload_id: str, end: UploadEnd) -> bool:
        with self.db.lock:
            upload = self.get_upload(ref, upload_id)
            if upload.status is not VersionStatus.VALIDATING or upload.finished_at:
                return False
            self._change_upload(
                ref,
                upload_id,
                status=end.status,
                finished_at=end.finished_at,
                version=end.version or upload.version,
                reason=end.reason,
            )
            return True

    def get_version(self, ref: ModelRef, version: str) -> ModelVersion | None:
        return self.version_items.get((ref, version))

    def begin_version(self, ref: ModelRef, version: ModelVersion) -> ModelVersion:
        with self.db.lock:
            return self.version_items.setdefault((ref, version.version), version)

    def finish_version(
        self, ref: ModelRef, version: str, ready: bool, validation: Validation, finished_at: str
    ) -> bool:
        with self.db.lock:
            found = self.version_items.get((ref, version))
            if found is None or found.status is not VersionStatus.VALIDATING:
                return False
            status = VersionStatus.READY if ready else VersionStatus.FAILED
            self.version_items[(ref, version)] = dataclasses.replace(
                found, status=status, validation=validation, finished_at=finished_at
            )
            if ready:
                self.latest[ref] = version
            return True

    def drop_version(self, ref: ModelRef, version: str, upload_id: str) -> bool:
        with self.db.lock:
            found = self.version_items.get((ref, version))
            if found is None or found.status is not VersionStatus.VALIDATING:
                return False
            if found.upload_id != upload_id:
                return False
            del self.version_items[(ref, version)]
            return True

    def assign(
        self,
        project: ProjectRef,
        old: ModelPick | None,
        new: ModelPick | None,
        mapping: LabelMapping,
    ) -> None:
        with self.db.lock:
            current = self.db.projects.get(project)
            if current is None:
                raise NotFound(f"project {project.project_id!r} not found")
            if current.active_run_id:
                raise Conflict("the detector cannot change while a pre-labeling run is active")
            if current.model != old:
                raise Conflict("the project's detector changed meanwhile; read it again")
            if new is not None:
                ref = ModelRef(project.org_id, new.model_id)
                self.get(ref)
                found = self.version_items.get((ref, new.version))
                if found is None or not found.ready:
                    raise Conflict(f"version {new.version} is not READY")
            self._use(project, old, add=False)
            self._use(project, new, add=True)
            self.db.projects[project] = dataclasses.replace(current, model=new, mapping=mapping)

    def _use(self, project: ProjectRef, pick: ModelPick | None, *, add: bool) -> None:
        if pick is None:
            return
        ref = ModelRef(project.org_id, pick.model_id)
        model = self.models[ref]
        users = (
            model.used_by | {project.project_id} if add else model.used_by - {project.project_id}
        )
        self.models[ref] = dataclasses.replace(model, used_by=frozenset(users))

    def delete(self, ref: ModelRef) -> None:
        with self.db.lock:
            if self.get(ref).used_by:
                raise Conflict(f"model {ref.model_id} is used by a project")
            del self.models[ref]
            self.latest.pop(ref, None)
            for key in [k for k in self.version_items if k[0] == ref]:
                del self.version_items[key]
            for key in [k for k in self.upload_items if k[0] == ref]:
                del self.upload_items[key]


@dataclass
class FakeModelFiles(ModelFiles):
    """The models bucket: what a presigned POST would have stored is `put_upload`'s to say."""

    objects: dict[str, bytes] = field(default_factory=dict)
    forms: list[UploadForm] = field(default_factory=list)

    def upload_form(self, key: str, max_bytes: int, expires_in: int) -> UploadForm:
        form = UploadForm("https://models.s3.example/", {"key": key}, key, expires_in, max_bytes)
        self.forms.append(form)
        return form

    def exists(self, key: str) -> bool:
        return key in self.objects

    def fetch(self, key: str, destination: Path, max_bytes: int) -> Fetched | None:
        data = self.objects.get(key)
        if data is None:
            return None
        if len(data) > max_bytes:
            raise FileTooLarge(len(data))
        destination.write_bytes(data)
        return Fetched(len(data), hashlib.sha256(data).hexdigest())

    def put(self, key: str, source: Path) -> None:
        self.objects[key] = source.read_bytes()

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    def delete_prefix(self, prefix: str) -> int:
        keys = [k for k in self.objects if k.startswith(prefix)]
        for key in keys:
            del self.objects[key]
        return len(keys)


@dataclass
class ScriptedValidator(ModelValidator):
    """READY unless `verdict` says otherwise for the file's bytes; packages a real tar.gz."""

    verdict: Callable[[bytes], Verdict] = lambda _: Verdict(True, None, {"layout": "v8"})
    validated: list[bytes] = field(default_factory=list)

    def validate(self, path: Path, declaration: Mapping[str, object]) -> Verdict:
        data = path.read_bytes()
        self.validated.append(data)
        return self.verdict(data)

    def package(
        self,
        path: Path,
        declaration: Mapping[str, object],
        name: str,
        version: str,
        out: Path,
    ) -> Path:
        with tarfile.open(out, "w:gz") as tar:
            tar.add(path, arcname="model.onnx")
        return out
