"""pynamodb models: the one place that knows the DynamoDB item layout (see template.yaml)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from prelabel.settings import Settings


class DataGrantAttr(MapAttribute[str, Any]):
    bucket = UnicodeAttribute()
    prefix = UnicodeAttribute()


class OrganizationModel(Model):
    class Meta:
        table_name = "prelabel-organizations"
        billing_mode = "PAY_PER_REQUEST"

    org_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    plan = UnicodeAttribute()
    monthly_limit = NumberAttribute()
    remaining = NumberAttribute()
    period = UnicodeAttribute()
    # On the organization item, which every request reads anyway: grants come with that read.
    data_grants = ListAttribute(of=DataGrantAttr, null=True)


class LabelEntryAttr(MapAttribute[str, Any]):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    geometry = UnicodeAttribute()


class MappingRowAttr(MapAttribute[str, Any]):
    class_id = NumberAttribute()
    class_name = UnicodeAttribute()
    entry_id = UnicodeAttribute()
    min_confidence = NumberAttribute(null=True)


class ProjectByIdIndex(GlobalSecondaryIndex["ProjectModel"]):
    """A console start names only the project; this finds its organization."""

    class Meta:
        index_name = "by-id"
        projection = KeysOnlyProjection()

    project_id = UnicodeAttribute(hash_key=True)


class ProjectModel(Model):
    class Meta:
        table_name = "prelabel-projects"
        billing_mode = "PAY_PER_REQUEST"

    by_id = ProjectByIdIndex()
    org_id = UnicodeAttribute(hash_key=True)
    project_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    label_config = ListAttribute(of=LabelEntryAttr, default=list)
    mapping = ListAttribute(of=MappingRowAttr, default=list)
    default_threshold = NumberAttribute(default=0.5)
    active_run_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class DatasetModel(Model):
    class Meta:
        table_name = "prelabel-datasets"
        billing_mode = "PAY_PER_REQUEST"

    project_key = UnicodeAttribute(hash_key=True)
    dataset_id = UnicodeAttribute(range_key=True)
    bucket = UnicodeAttribute()
    prefix = UnicodeAttribute()
    task_count = NumberAttribute()
    connected_at = UnicodeAttribute()


class EligibleIndex(GlobalSecondaryIndex["TaskModel"]):
    """Sparse: only tasks WAITING with no pre-label state carry `eligible_key`.

    Keys only: finding work needs task ids, and claims (writes of non-key attributes) then cost
    no index write.
    """

    class Meta:
        index_name = "eligible"
        projection = KeysOnlyProjection()

    eligible_key = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)


class ByDatasetIndex(GlobalSecondaryIndex["TaskModel"]):
    class Meta:
        index_name = "by-dataset"
        projection = KeysOnlyProjection()

    dataset_key = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)


class LabelAttr(MapAttribute[str, Any]):
    label_id = UnicodeAttribute()
    entry_id = UnicodeAttribute()
    entry_name = UnicodeAttribute()
    box = ListAttribute(of=NumberAttribute)
    detector_class = UnicodeAttribute()
    score = NumberAttribute()
    model_name = UnicodeAttribute()
    model_version = UnicodeAttribute()
    source = UnicodeAttribute()


class TaskModel(Model):
    class Meta:
        table_name = "prelabel-tasks"
        billing_mode = "PAY_PER_REQUEST"

    project_key = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)
    dataset_id = UnicodeAttribute()
    dataset_key = UnicodeAttribute()
    bucket = UnicodeAttribute()
    image_key = UnicodeAttribute()
    state = UnicodeAttribute()
    eligible_key = UnicodeAttribute(null=True)
    prelabel_state = UnicodeAttribute(null=True)
    prelabel_reason = UnicodeAttribute(null=True)
    labels = ListAttribute(of=LabelAttr, null=True)
    image_width = NumberAttribute(null=True)
    image_height = NumberAttribute(null=True)
    claim_run_id = UnicodeAttribute(null=True)
    claim_expires_at = NumberAttribute(null=True)
    prelabel_run_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()

    eligible = EligibleIndex()
    by_dataset = ByDatasetIndex()


class RunModel(Model):
    class Meta:
        table_name = "prelabel-runs"
        billing_mode = "PAY_PER_REQUEST"

    project_key = UnicodeAttribute(hash_key=True)
    run_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    total = NumberAttribute(default=0)
    labeled = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    skipped_quota = NumberAttribute(default=0)
    started_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    message = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    quota_exhausted = BooleanAttribute(default=False)
    # The mapping as it was at start: a run never sees later edits.
    mapping = ListAttribute(of=MappingRowAttr, default=list)
    default_threshold = NumberAttribute(default=0.5)
    entry_names = MapAttribute[str, Any](default=dict)
    batch_size = NumberAttribute(default=32)


class BatchReceiptModel(Model):
    """One per committed batch, written in the batch's transaction: a retried batch is a no-op.

    Lives in the runs table under its own partition (`batch#<run id>`), away from run items.
    """

    class Meta:
        table_name = "prelabel-runs"
        billing_mode = "PAY_PER_REQUEST"

    receipt_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    batch = UnicodeAttribute(range_key=True, attr_name="run_id")
    labeled = NumberAttribute()
    committed_at = UnicodeAttribute()

    @staticmethod
    def key(run_id: str, batch_no: int) -> tuple[str, str]:
        return f"batch#{run_id}", f"{batch_no:06d}"


ALL_MODELS: tuple[type[Model], ...] = (
    OrganizationModel,
    ProjectModel,
    DatasetModel,
    TaskModel,
    RunModel,
    BatchReceiptModel,
)


def bind_tables(settings: Settings) -> None:
    """Point every model at this deployment's tables; called once per cold start."""
    names = {
        OrganizationModel: settings.organizations_table,
        ProjectModel: settings.projects_table,
        DatasetModel: settings.datasets_table,
        TaskModel: settings.tasks_table,
        RunModel: settings.runs_table,
        BatchReceiptModel: settings.runs_table,
    }
    for model, table in names.items():
        model.Meta.table_name = table
        model.Meta.region = settings.region
        model.Meta.host = settings.dynamodb_endpoint
        # pynamodb caches the connection per class; a new binding must not reuse the old one.
        model._connection = None
