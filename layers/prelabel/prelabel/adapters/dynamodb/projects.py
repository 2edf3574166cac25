"""Projects and datasets on DynamoDB."""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from prelabel.adapters.dynamodb.errors import CONDITION_FAILED, read_item, save_new, storage_errors
from prelabel.adapters.dynamodb.keys import project_ref
from prelabel.adapters.dynamodb.mapping_items import (
    mapping_from_items,
    mapping_to_items,
    pick_from_item,
)
from prelabel.adapters.dynamodb.models import (
    DatasetModel,
    LabelEntryAttr,
    ProjectModel,
)
from prelabel.adapters.dynamodb.reports import report_from_json, report_to_json
from prelabel.domain.entities import Dataset, DatasetStatus, Project, ProjectRef
from prelabel.domain.errors import Conflict, NotFound
from prelabel.domain.imports import ManifestFormat
from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.domain.mapping import LabelMapping
from prelabel.ports.projects import Claim, DatasetRepository, ProjectRepository, Settlement


def _entries_to_items(entries: tuple[LabelEntry, ...]) -> list[LabelEntryAttr]:
    return [LabelEntryAttr(id=e.id, name=e.name, geometry=e.geometry.value) for e in entries]


def _project_to_domain(item: ProjectModel) -> Project:
    return Project(
        ref=ProjectRef(item.org_id, item.project_id),
        name=item.name,
        label_config=tuple(
            LabelEntry(e.id, e.name, Geometry(e.geometry)) for e in item.label_config or []
        ),
        mapping=mapping_from_items(item.mapping),
        default_threshold=float(item.default_threshold),
        active_run_id=item.active_run_id,
        created_at=item.created_at,
        model=pick_from_item(item.model),
    )


class DynamoProjectRepository(ProjectRepository):
    def __init__(self, task_shards: int = 16) -> None:
        # New projects spread their tasks over this many shards, for good (see keys.py).
        self._task_shards = task_shards

    def create(self, project: Project) -> None:
        item = ProjectModel(
            project.ref.org_id,
            project.ref.project_id,
            name=project.name,
            label_config=_entries_to_items(project.label_config),
            mapping=mapping_to_items(project.mapping),
            default_threshold=project.default_threshold,
            created_at=project.created_at,
            shards=self._task_shards,
        )
        exists = f"project {project.ref.project_id!r} exists"
        save_new(item, ProjectModel.project_id, "create project", exists)

    def get(self, ref: ProjectRef) -> Project:
        # Same words whether the project is absent or another organization's: nothing leaks.
        missing = f"project {ref.project_id!r} not found"
        item = read_item(
            ProjectModel, ref.org_id, ref.project_id, what="read project", missing=missing
        )
        return _project_to_domain(item)

    def list_projects(self, org_id: str) -> list[Project]:
        with storage_errors("list projects"):
            return [_project_to_domain(i) for i in ProjectModel.query(org_id)]

    def find_by_id(self, project_id: str) -> ProjectRef:
        with storage_errors("find project"):
            for item in ProjectModel.by_id.query(project_id, limit=1):
                return ProjectRef(item.org_id, item.project_id)
        raise NotFound(f"project {project_id!r} not found")

    def save_label_config(self, ref: ProjectRef, entries: tuple[LabelEntry, ...]) -> None:
        try:
            with storage_errors("save label configuration"):
                ProjectModel(ref.org_id, ref.project_id).update(
                    actions=[ProjectModel.label_config.set(_entries_to_items(entries))],
                    condition=ProjectModel.project_id.exists()
                    & ProjectModel.active_run_id.does_not_exist(),
                )
        except UpdateError as exc:
            self.get(ref)
            raise Conflict("the label configuration cannot change while a run is active") from exc

    def save_mapping(
        self, ref: ProjectRef, mapping: LabelMapping, default_threshold: float
    ) -> None:
        try:
            with storage_errors("save mapping"):
                ProjectModel(ref.org_id, ref.project_id).update(
                    actions=[
                        ProjectModel.mapping.set(mapping_to_items(mapping)),
                        ProjectModel.default_threshold.set(default_threshold),
                    ],
                    condition=ProjectModel.project_id.exists()
                    & ProjectModel.active_run_id.does_not_exist(),
                )
        except UpdateError as exc:
            self.get(ref)
            raise Conflict("the mapping cannot change while a pre-labeling run is active") from exc


def _dataset_to_domain(item: DatasetModel) -> Dataset:
    return Dataset(
        project_ref(item.project_key),
        item.dataset_id,
        item.bucket,
        item.prefix,
        int(item.task_count or 0),
        item.connected_at,
        status=DatasetStatus(item.status or DatasetStatus.READY.value),
        manifest_key=item.manifest_key,
        manifest_format=ManifestFormat(item.manifest_format) if item.manifest_format else None,
        generation=int(item.generation or 0),
        job_id=item.job_id,
        failure=item.failure,
        report=report_from_json(item.report) if item.report else None,
    )


def _owned_by(job_id: str | None) -> Condition:
    if job_id is None:
        free: Condition = DatasetModel.dataset_id.exists() & DatasetModel.job_id.does_not_exist()
        return free
    owned: Condition = DatasetModel.job_id == job_id
    return owned


class DynamoDatasetRepository(DatasetRepository):
    def create(self, dataset: Dataset) -> None:
        item = DatasetModel(
            dataset.project.key,
            dataset.dataset_id,
            bucket=dataset.bucket,
            prefix=dataset.prefix,
            manifest_key=dataset.manifest_key,
            manifest_format=dataset.manifest_format.value if dataset.manifest_format else None,
            task_count=dataset.task_count,
            connected_at=dataset.connected_at,
            status=dataset.status.value,
            generation=dataset.generation,
            job_id=dataset.job_id,
        )
        exists = f"dataset {dataset.dataset_id!r} exists"
        save_new(item, DatasetModel.dataset_id, "save dataset", exists)

    def get(self, ref: ProjectRef, dataset_id: str) -> Dataset:
        missing = f"dataset {dataset_id!r} not found"
        item = read_item(DatasetModel, ref.key, dataset_id, what="read dataset", missing=missing)
        return _dataset_to_domain(item)

    def list_datasets(self, ref: ProjectRef) -> list[Dataset]:
        with storage_errors("list datasets"):
            return [_dataset_to_domain(i) for i in DatasetModel.query(ref.key)]

    def _update(
        self, ref: ProjectRef, dataset_id: str, actions: list[Action], cond: Condition
    ) -> bool:
        try:
            with storage_errors("save dataset"):
                DatasetModel(ref.key, dataset_id).update(actions=actions, condition=cond)
        except UpdateError as exc:
            if exc.cause_response_code == CONDITION_FAILED:
                return False
            raise
        return True

    def claim(self, ref: ProjectRef, dataset_id: str, claim: Claim) -> bool:
        actions: list[Action] = [
            DatasetModel.job_id.set(claim.job_id),
            DatasetModel.status.set(claim.status.value),
            DatasetModel.failure.remove(),
            DatasetModel.report.remove(),
        ]
        if claim.generation is not None:
            actions.append(DatasetModel.generation.set(claim.generation))
        return self._update(ref, dataset_id, actions, _owned_by(claim.expected_job_id))

    def settle(self, ref: ProjectRef, dataset_id: str, job_id: str, end: Settlement) -> bool:
        failure = end.failure
        actions: list[Action] = [
            DatasetModel.status.set(end.status.value),
            DatasetModel.failure.set(failure[:2000]) if failure else DatasetModel.failure.remove(),
        ]
        if end.report is not None:
            actions.append(DatasetModel.report.set(report_to_json(end.report)))
        return self._update(ref, dataset_id, actions, _owned_by(job_id))

    def remove(self, ref: ProjectRef, dataset_id: str, job_id: str) -> bool:
        try:
            with storage_errors("remove dataset"):
                DatasetModel(ref.key, dataset_id).delete(condition=_owned_by(job_id))
        except DeleteError as exc:
            if exc.cause_response_code == CONDITION_FAILED:
                return False
            raise
        return True
