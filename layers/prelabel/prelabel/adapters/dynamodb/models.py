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
    # Closed periods -> images used (YYYY-MM -> number), written by the monthly reset. Created
    # empty with the organization: the reset sets one key of it, which needs the map to exist.
    usage = MapAttribute[str, Any](null=True)


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
    """A dataset, its status and the job working on it. `task_count` changes in the same
    transactions that add or delete its tasks, so it is exact at every moment."""

    class Meta:
        table_name = "prelabel-datasets"
        billing_mode = "PAY_PER_REQUEST"

    project_key = UnicodeAttribute(hash_key=True)
    dataset_id = UnicodeAttribute(range_key=True)
    bucket = UnicodeAttribute()
    prefix = UnicodeAttribute(null=True)
    manifest_key = UnicodeAttribute(null=True)
    manifest_format = UnicodeAttribute(null=True)
    task_count = NumberAttribute(default=0)
    connected_at = UnicodeAttribute()
    status = UnicodeAttribute(default="READY")
    generation = NumberAttribute(default=0)
    job_id = UnicodeAttribute(null=True)
    failure = UnicodeAttribute(null=True)
    # The import report as JSON text (counts per skip reason, example keys): read whole.
    report = UnicodeAttribute(null=True)


class ByStateIndex(GlobalSecondaryIndex["TaskModel"]):
    """`<project>#<STATE>`: a page of tasks in one state, and the WAITING tasks a run starts
    from. Keys only: a page reads its tasks by key afterwards."""

    class Meta:
        index_name = "by-state"
        projection = KeysOnlyProjection()

    state_key = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)


class ByDatasetIndex(GlobalSecondaryIndex["TaskModel"]):
    class Meta:
        index_name = "by-dataset"
        projection = KeysOnlyProjection()

    dataset_key = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)


class TaskModel(Model):
    """One image of a project. Pre-labeling never writes this item (see PrelabelModel)."""

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
    state_key = UnicodeAttribute()
    created_at = UnicodeAttribute()

    by_state = ByStateIndex()
    by_dataset = ByDatasetIndex()


class PrelabelModel(Model):
    """A task's pre-label, in its own item of the tasks table: `<project>#pl#DONE` or
    `<project>#pl#FAILED`, sorted by task id.

    Written once, in the batch's commit transaction; the task item is left as it is. So a
    pre-labeled image costs one small transactional put and no index write, and each outcome's
    partition is the list of the project's pre-labeled (or failed) tasks. Attribute names are
    short because every byte over 1 KB doubles the write's cost.
    """

    class Meta:
        table_name = "prelabel-tasks"
        billing_mode = "PAY_PER_REQUEST"

    outcome_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    task_id = UnicodeAttribute(range_key=True)
    run_id = UnicodeAttribute(attr_name="r")
    width = NumberAttribute(null=True, attr_name="w")
    height = NumberAttribute(null=True, attr_name="h")
    model = UnicodeAttribute(null=True, attr_name="m")
    labels = UnicodeAttribute(null=True, attr_name="l")
    reason = UnicodeAttribute(null=True, attr_name="why")


class CountsModel(Model):
    """The project's counters (`<project>#counts`), changed in the same transactions as the
    tasks and pre-labels they count, so a view reads one item at any project size."""

    class Meta:
        table_name = "prelabel-tasks"
        billing_mode = "PAY_PER_REQUEST"

    counts_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    name = UnicodeAttribute(range_key=True, attr_name="task_id")
    backlog = NumberAttribute(default=0)
    waiting = NumberAttribute(default=0)
    in_progress = NumberAttribute(default=0)
    completed = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    eligible = NumberAttribute(default=0)
    prelabeled = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)


class RunModel(Model):
    """A run's status and counters: small, because every batch's commit updates it."""

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
    execution_arn = UnicodeAttribute(null=True)
    quota_exhausted = BooleanAttribute(default=False)
    failure = UnicodeAttribute(null=True)


class RunSnapshotModel(Model):
    """The mapping as it was at start (`snapshot#<project>`): a run never sees later edits.
    Apart from RunModel so that the commits do not rewrite it."""

    class Meta:
        table_name = "prelabel-runs"
        billing_mode = "PAY_PER_REQUEST"

    snapshot_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    run_id = UnicodeAttribute(range_key=True)
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


class CrashNoteModel(Model):
    """The image a retried batch is decoding alone (`crash#<run id>`, batch number): if the
    worker dies, the next attempt finds it here."""

    class Meta:
        table_name = "prelabel-runs"
        billing_mode = "PAY_PER_REQUEST"

    note_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    batch = UnicodeAttribute(range_key=True, attr_name="run_id")
    task_id = UnicodeAttribute()
    crashes = NumberAttribute()

    @staticmethod
    def key(run_id: str, batch_no: int) -> tuple[str, str]:
        return f"crash#{run_id}", f"{batch_no:06d}"


class JobModel(Model):
    """A job: kind, status, progress, result. Ids are time-ordered, so a project's partition
    read backwards lists its newest jobs first. Params and result are small JSON texts."""

    class Meta:
        table_name = "prelabel-jobs"
        billing_mode = "PAY_PER_REQUEST"

    project_key = UnicodeAttribute(hash_key=True)
    job_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    params = UnicodeAttribute(default="{}")
    done = NumberAttribute(default=0)
    total = NumberAttribute(null=True)
    unit = UnicodeAttribute(default="tasks")
    result = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)


class JobSliceModel(Model):
    """The report of one slice of an import (`slice#<job id>`, slice number): a retried slice
    writes the same key, so it replaces its report instead of adding to it."""

    class Meta:
        table_name = "prelabel-jobs"
        billing_mode = "PAY_PER_REQUEST"

    slice_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    slice_no = UnicodeAttribute(range_key=True, attr_name="job_id")
    report = UnicodeAttribute()

    @staticmethod
    def key(job_id: str, slice_no: int) -> tuple[str, str]:
        return f"slice#{job_id}", f"{slice_no:06d}"


# Model -> the Settings field naming its table.
TABLE_OF: dict[type[Model], str] = {
    OrganizationModel: "organizations_table",
    ProjectModel: "projects_table",
    DatasetModel: "datasets_table",
    TaskModel: "tasks_table",
    PrelabelModel: "tasks_table",
    CountsModel: "tasks_table",
    RunModel: "runs_table",
    RunSnapshotModel: "runs_table",
    BatchReceiptModel: "runs_table",
    CrashNoteModel: "runs_table",
    JobModel: "jobs_table",
    JobSliceModel: "jobs_table",
}


def bind_tables(settings: Settings) -> None:
    """Point every model at this deployment's tables; called once per cold start."""
    for model, field in TABLE_OF.items():
        # A function without this table in its environment never touches it; if it did, the
        # error would name the missing variable.
        alias = type(settings).model_fields[field].alias
        model.Meta.table_name = getattr(settings, field) or f"unset-{alias}"
        model.Meta.region = settings.region
        model.Meta.host = settings.dynamodb_endpoint
        # pynamodb caches the connection per class; a new binding must not reuse the old one.
        model._connection = None
