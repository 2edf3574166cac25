"""An organization's models, their versions and uploads on DynamoDB (the models table), and a
project's pick of one, written with the models' `used_by` in one transaction."""

from __future__ import annotations

import json
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from prelabel.adapters.dynamodb.errors import condition_failed, read_item, storage_errors
from prelabel.adapters.dynamodb.mapping_items import mapping_to_items, pick_to_item
from prelabel.adapters.dynamodb.models import (
    DetectorModelItem,
    ModelUploadItem,
    ModelVersionItem,
    ProjectModel,
)
from prelabel.adapters.dynamodb.transact import Transaction
from prelabel.domain.detector_models import (
    Channels,
    DetectorModel,
    ModelFamily,
    ModelPick,
    ModelRef,
    ModelSpec,
    ModelUpload,
    ModelVersion,
    Normalisation,
    ResizeMode,
    Validation,
    VersionStatus,
)
from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import Conflict, NotFound
from prelabel.domain.mapping import LabelMapping
from prelabel.ports.detector_models import ModelRepository, UploadEnd

VERSION = "v#"
UPLOAD = "u#"


def _children(ref: ModelRef) -> str:
    return f"{ref.org_id}#{ref.model_id}"


def _model_item(model: DetectorModel) -> DetectorModelItem:
    spec = model.spec
    n = spec.normalisation
    return DetectorModelItem(
        model.org_id,
        model.model_id,
        name=spec.name,
        family=spec.family.value,
        input_width=spec.input_size[0],
        input_height=spec.input_size[1],
        normalisation=json.dumps(n.as_descriptor()),
        classes=json.dumps(list(spec.classes)),
        created_at=model.created_at,
    )


def _model(item: DetectorModelItem) -> DetectorModel:
    n: dict[str, Any] = json.loads(item.normalisation)
    normalisation = Normalisation(
        mean=(float(n["mean"][0]), float(n["mean"][1]), float(n["mean"][2])),
        scale=(float(n["scale"][0]), float(n["scale"][1]), float(n["scale"][2])),
        channels=Channels(n["channels"]),
        resize=ResizeMode(n["resize"]),
        pad=int(n["pad"]),
    )
    spec = ModelSpec(
        item.name,
        ModelFamily(item.family),
        (int(item.input_width), int(item.input_height)),
        normalisation,
        tuple(json.loads(item.classes)),
    )
    return DetectorModel(
        item.owner_key,
        item.item_key,
        spec,
        item.created_at,
        frozenset(item.used_by or ()),
        item.latest_ready,
    )


def _version(ref: ModelRef, item: ModelVersionItem) -> ModelVersion:
    figures = json.loads(item.figures) if item.figures else {}
    return ModelVersion(
        ref.model_id,
        item.item_key.removeprefix(VERSION),
        VersionStatus(item.status),
        int(item.size_bytes),
        item.created_at,
        item.upload_id,
        Validation(item.reason, figures),
        item.finished_at,
    )


def _upload(ref: ModelRef, item: ModelUploadItem) -> ModelUpload:
    return ModelUpload(
        ref.model_id,
        item.item_key.removeprefix(UPLOAD),
        VersionStatus(item.status),
        item.created_at,
        item.version,
        item.reason,
        item.execution_arn,
        item.finished_at,
    )


def _upload_item(ref: ModelRef, upload: ModelUpload) -> ModelUploadItem:
    return ModelUploadItem(
        _children(ref),
        UPLOAD + upload.upload_id,
        status=upload.status.value,
        created_at=upload.created_at,
    )


class DynamoModelRepository(ModelRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def count_models(self, org_id: str) -> int:
        with storage_errors("count models"):
            return int(DetectorModelItem.count(org_id))

    def create(self, model: DetectorModel, upload: ModelUpload) -> None:
        ref = ModelRef(model.org_id, model.model_id)
        tx = Transaction(self._connection)
        tx.put(
            ("model", model.model_id),
            _model_item(model),
            DetectorModelItem.item_key.does_not_exist(),
        )
        tx.put(("upload", upload.upload_id), _upload_item(ref, upload))
        if tx.commit("create model"):
            raise Conflict(f"model {model.model_id!r} exists")

    def get(self, ref: ModelRef) -> DetectorModel:
        # The same words whether absent or another organization's: nothing leaks.
        item = read_item(
            DetectorModelItem,
            ref.org_id,
            ref.model_id,
            what="read model",
            missing=f"model {ref.model_id!r} not found",
        )
        return _model(item)

    def list_models(self, org_id: str) -> list[DetectorModel]:
        with storage_errors("list models"):
            return [_model(i) for i in DetectorModelItem.query(org_id)]

    def versions(self, ref: ModelRef) -> list[ModelVersion]:
        with storage_errors("list model versions"):
            found = ModelVersionItem.query(
                _children(ref), ModelVersionItem.item_key.startswith(VERSION)
            )
            return sorted((_version(ref, i) for i in found), key=lambda v: v.created_at)

    def uploads(self, ref: ModelRef) -> list[ModelUpload]:
        with storage_errors("list model uploads"):
            found = ModelUploadItem.query(
                _children(ref), ModelUploadItem.item_key.startswith(UPLOAD)
            )
            return [_upload(ref, i) for i in found]  # upload ids are time-ordered

    def add_upload(self, ref: ModelRef, upload: ModelUpload) -> None:
        tx = Transaction(self._connection)
        exists = DetectorModelItem.item_key.exists()
        tx.check(("model", ref.model_id), DetectorModelItem, ref.org_id, ref.model_id, exists)
        tx.put(("upload", upload.upload_id), _upload_item(ref, upload))
        if tx.commit("add model upload"):
            raise NotFound(f"model {ref.model_id!r} not found")

    def get_upload(self, ref: ModelRef, upload_id: str) -> ModelUpload:
        item = read_item(
            ModelUploadItem,
            _children(ref),
            UPLOAD + upload_id,
            what="read model upload",
            missing=f"upload {upload_id!r} not found",
        )
        return _upload(ref, item)

    def _update_upload(
        self, ref: ModelRef, upload_id: str, actions: list[Action], condition: Condition
    ) -> bool:
        try:
            with storage_errors("save model upload"):
                ModelUploadItem(_children(ref), UPLOAD + upload_id).update(
                    actions=actions, condition=condition
                )
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def move_upload(
        self, ref: ModelRef, upload_id: str, source: VersionStatus, target: VersionStatus
    ) -> bool:
        return self._update_upload(
            ref,
            upload_id,
            [ModelUploadItem.status.set(target.value)],
            ModelUploadItem.status == source.value,
        )

    def set_upload_execution(self, ref: ModelRef, upload_id: str, execution_arn: str) -> None:
        self._update_upload(
            ref,
            upload_id,
            [ModelUploadItem.execution_arn.set(execution_arn)],
            ModelUploadItem.item_key.exists(),
        )

    def set_upload_version(self, ref: ModelRef, upload_id: str, version: str) -> None:
        self._update_upload(
            ref,
            upload_id,
            [ModelUploadItem.version.set(version)],
            ModelUploadItem.item_key.exists(),
        )

    def end_upload(self, ref: ModelRef, upload_id: str, end: UploadEnd) -> bool:
        actions: list[Action] = [
            ModelUploadItem.status.set(end.status.value),
            ModelUploadItem.finished_at.set(end.finished_at),
        ]
        if end.version is not None:
            actions.append(ModelUploadItem.version.set(end.version))
        if end.reason is not None:
            actions.append(ModelUploadItem.reason.set(end.reason[:2000]))
        condition = (ModelUploadItem.status == VersionStatus.VALIDATING.value) & (
            ModelUploadItem.finished_at.does_not_exist()
        )
        return self._update_upload(ref, upload_id, actions, condition)

    def get_version(self, ref: ModelRef, version: str) -> ModelVersion | None:
        try:
            item = read_item(
                ModelVersionItem, _children(ref), VERSION + version, what="read model version",
                missing="",
            )  # fmt: skip
        except NotFound:
            return None
        return _version(ref, item)

    def begin_version(self, ref: ModelRef, version: ModelVersion) -> ModelVersion:
        item = ModelVersionItem(
            _children(ref),
            VERSION + version.version,
            status=version.status.value,
            size_bytes=version.size_bytes,
            upload_id=version.upload_id,
            created_at=version.created_at,
        )
        try:
            with storage_errors("save model version"):
                item.save(condition=ModelVersionItem.item_key.does_not_exist())
        except PutError as exc:
            if not condition_failed(exc):
                raise  # else: a version of that sha256 is stored already
        stored = self.get_version(ref, version.version)
        if stored is None:
            raise NotFound(f"version {version.version} of model {ref.model_id} vanished")
        return stored

    def finish_version(
        self, ref: ModelRef, version: str, ready: bool, validation: Validation, finished_at: str
    ) -> bool:
        status = VersionStatus.READY if ready else VersionStatus.FAILED
        actions: list[Action] = [
            ModelVersionItem.status.set(status.value),
            ModelVersionItem.finished_at.set(finished_at),
            ModelVersionItem.figures.set(json.dumps(dict(validation.figures))),
        ]
        if validation.reason:
            actions.append(ModelVersionItem.reason.set(validation.reason[:2000]))
        tx = Transaction(self._connection)
        tx.update(
            ("version", version),
            ModelVersionItem(_children(ref), VERSION + version),
            actions,
            ModelVersionItem.status == VersionStatus.VALIDATING.value,
        )
        if ready:
            tx.update(
                ("model", ref.model_id),
                DetectorModelItem(ref.org_id, ref.model_id),
                [DetectorModelItem.latest_ready.set(version)],
                DetectorModelItem.item_key.exists(),
            )
        failed = tx.commit("finish model version")
        return not failed

    def drop_version(self, ref: ModelRef, version: str, upload_id: str) -> bool:
        condition = (ModelVersionItem.status == VersionStatus.VALIDATING.value) & (
            ModelVersionItem.upload_id == upload_id
        )
        try:
            with storage_errors("drop model version"):
                ModelVersionItem(_children(ref), VERSION + version).delete(condition=condition)
        except DeleteError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def assign(
        self,
        project: ProjectRef,
        old: ModelPick | None,
        new: ModelPick | None,
        mapping: LabelMapping,
    ) -> None:
        tx = Transaction(self._connection)
        _assign_project(tx, project, old, new, mapping)
        same_model = old is not None and new is not None and old.model_id == new.model_id
        if new is not None:
            ref = ModelRef(project.org_id, new.model_id)
            ready = ModelVersionItem.status == VersionStatus.READY.value
            tx.check(("version", new.version), ModelVersionItem, _children(ref),
                     VERSION + new.version, ready)  # fmt: skip
            if not same_model:
                _use(tx, ref, project.project_id, add=True)
        if old is not None and not same_model:
            _use(tx, ModelRef(project.org_id, old.model_id), project.project_id, add=False)
        failed = tx.commit("pick the project's detector")
        if failed:
            self._refusal(project, failed[0][0], new)

    def _refusal(self, project: ProjectRef, tag: str, new: ModelPick | None) -> None:
        if tag == "project":
            item = read_item(
                ProjectModel,
                project.org_id,
                project.project_id,
                what="read project",
                missing=f"project {project.project_id!r} not found",
            )
            if item.active_run_id:
                raise Conflict("the detector cannot change while a pre-labeling run is active")
            raise Conflict("the project's detector changed meanwhile; read it again")
        if tag == "model" and new is not None:
            raise NotFound(f"model {new.model_id!r} not found")
        version = new.version if new else ""
        raise Conflict(f"version {version} is not READY; only a READY version can be picked")

    def delete(self, ref: ModelRef) -> None:
        condition = DetectorModelItem.item_key.exists() & DetectorModelItem.used_by.does_not_exist()
        try:
            with storage_errors("delete model"):
                DetectorModelItem(ref.org_id, ref.model_id).delete(condition=condition)
        except DeleteError as exc:
            if not condition_failed(exc):
                raise
            if self.get(ref).used_by:  # NotFound when absent
                raise Conflict(f"model {ref.model_id} is used by a project") from exc
            raise
        self._delete_children(ref)

    def _delete_children(self, ref: ModelRef) -> None:
        """Every record under the model's partition (versions and uploads alike: a delete
        needs only the keys, which both kinds name the same way)."""
        with storage_errors("delete model records"):
            keys = [
                i.item_key
                for i in ModelUploadItem.query(_children(ref), attributes_to_get=["item_key"])
            ]
            with ModelUploadItem.batch_write() as batch:
                for key in keys:
                    batch.delete(ModelUploadItem(_children(ref), key))


def _assign_project(
    tx: Transaction,
    project: ProjectRef,
    old: ModelPick | None,
    new: ModelPick | None,
    mapping: LabelMapping,
) -> None:
    """The project's new detector and mapping, if no run is active and its detector is still
    `old` (a concurrent switch makes one of the two fail)."""
    condition: Condition = (
        ProjectModel.project_id.exists() & ProjectModel.active_run_id.does_not_exist()
    )
    if old is None:
        condition &= ProjectModel.model.does_not_exist()
    else:
        condition &= (ProjectModel.model.model_id == old.model_id) & (
            ProjectModel.model.version == old.version
        )
    actions: list[Action] = [ProjectModel.mapping.set(mapping_to_items(mapping))]
    item = pick_to_item(new)
    actions.append(ProjectModel.model.remove() if item is None else ProjectModel.model.set(item))
    tx.update(("project", project.project_id), ProjectModel(project.org_id, project.project_id),
              actions, condition)  # fmt: skip


def _use(tx: Transaction, ref: ModelRef, project_id: str, *, add: bool) -> None:
    """The model's `used_by` gains (or loses) the project; the model must exist."""
    users = DetectorModelItem.used_by
    action = users.add({project_id}) if add else users.delete({project_id})
    tx.update(("model" if add else "old-model", ref.model_id),
              DetectorModelItem(ref.org_id, ref.model_id), [action],
              DetectorModelItem.item_key.exists())  # fmt: skip
