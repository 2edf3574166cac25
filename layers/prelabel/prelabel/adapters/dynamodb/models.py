"""pynamodb models: the one place that knows the DynamoDB item layout.

The tables themselves (keys, indexes, billing) are made from template.yaml, which
tests/unit/test_template.py holds these models to; a model's Meta only names its table. The
models of a shared table derive from one base that holds its Meta.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from prelabel.adapters.botocore_sessions import share_with_pynamodb
from prelabel.settings import Settings

_M = TypeVar("_M", bound=Model)


class DataGrantAttr(MapAttribute[str, Any]):
    bucket = UnicodeAttribute()
    prefix = UnicodeAttribute()


class OrganizationModel(Model):
    class Meta:
        table_name = "prelabel-organizations"

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


class ModelPickAttr(MapAttribute[str, Any]):
    """The organization's own model a project uses (or a run used): absent for the built-in."""

    model_id = UnicodeAttribute()
    version = UnicodeAttribute()
    name = UnicodeAttribute()


class KeysOnlyIndex(GlobalSecondaryIndex[_M]):
    """A global index named `index_name` that holds keys only: every read through one gets
    its items by key afterwards, so no index write copies the rest of an item."""

    def __init_subclass__(cls, index_name: str = "", **kwargs: Any) -> None:
        # Each index its own Meta: pynamodb records the index's attributes on it.
        cls.Meta = type("Meta", (), {"index_name": index_name, "projection": KeysOnlyProjection()})
        super().__init_subclass__(**kwargs)


class ProjectByIdIndex(KeysOnlyIndex["ProjectModel"], index_name="by-id"):
    """A console start names only the project; this finds its organization."""

    project_id = UnicodeAttribute(hash_key=True)


class ProjectModel(Model):
    class Meta:
        table_name = "prelabel-projects"

    by_id = ProjectByIdIndex()
    org_id = UnicodeAttribute(hash_key=True)
    project_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    label_config = ListAttribute(of=LabelEntryAttr, default=list)
    mapping = ListAttribute(of=MappingRowAttr, default=list)
    default_threshold = NumberAttribute(default=0.5)
    active_run_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    # How many shards the project's tasks are spread over (fixed at creation); absent on a
    # legacy project, whose tasks are under the unnumbered keys (see keys.py).
    shards = NumberAttribute(null=True)
    # While a reshard job moves a legacy project's tasks to shards: the N and the job.
    reshard_to = NumberAttribute(null=True)
    reshard_job = UnicodeAttribute(null=True)
    # Changed only with the model's `used_by`, in one transaction (detector_models.py).
    model = ModelPickAttr(null=True)


class DatasetModel(Model):
    """A dataset, its status and the job working on it. `task_count` changes in the same
    transactions that add or delete its tasks, so it is exact at every moment."""

    class Meta:
        table_name = "prelabel-datasets"

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


class TasksTable(Model):
    """The items of the tasks table: tasks, their pre-labels and the project's counters."""

    class Meta:
        table_name = "prelabel-tasks"


class ByStateIndex(KeysOnlyIndex["TaskModel"], index_name="by-state"):
    """`<project>#<STATE>#<shard>`: a page of tasks in one state, and the WAITING tasks a run
    starts from."""

    state_key = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)


class ByDatasetIndex(KeysOnlyIndex["TaskModel"], index_name="by-dataset"):
    """`<project>#<dataset>#<shard>`: a dataset's tasks, to list or remove them."""

    dataset_key = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)


class TaskModel(TasksTable):
    """One image of a project, in its shard's partition `<project>#<shard>`. Pre-labeling never
    writes this item (see PrelabelModel)."""

    project_key = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)
    dataset_id = UnicodeAttribute()
    dataset_key = UnicodeAttribute()
    bucket = UnicodeAttribute()
    image_key = UnicodeAttribute()
    state = UnicodeAttribute()
    state_key = UnicodeAttribute()
    created_at = UnicodeAttribute()
    # The import job that last wrote the task's reviewed labels, set in the same transaction:
    # a deletion conditioned on it fails when reviewed labels were written after it read them.
    reviewed_job = UnicodeAttribute(null=True)

    by_state = ByStateIndex()
    by_dataset = ByDatasetIndex()


class ReviewQueueIndex(KeysOnlyIndex["PrelabelModel"], index_name="review-queue"):
    """A shard's pre-labeled tasks that people should review first, by review key: the pre-label
    partition `<project>#pl#DONE#<shard>` sorted by `q` = the task's priority key and its id
    (prelabel.quality.priority). Sparse: only pre-labels whose priority is ahead of "the rest"
    carry `q`; the rest are read from the pre-label partition itself, in task-id order."""

    outcome_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    review = UnicodeAttribute(range_key=True, attr_name="q")


class PrelabelModel(TasksTable):
    """A task's pre-label, in its own item of the tasks table: `<project>#pl#DONE#<shard>` or
    `<project>#pl#FAILED#<shard>` (the task's shard), sorted by task id.

    Written once, in the batch's commit transaction; the task item is left as it is. So a
    pre-labeled image costs one small transactional put and no index write, and each outcome's
    partition is the list of the project's pre-labeled (or failed) tasks. Attribute names are
    short because every byte over 1 KB doubles the write's cost.
    """

    outcome_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    task_id = UnicodeAttribute(range_key=True)
    run_id = UnicodeAttribute(attr_name="r")
    width = NumberAttribute(null=True, attr_name="w")
    height = NumberAttribute(null=True, attr_name="h")
    model = UnicodeAttribute(null=True, attr_name="m")
    labels = UnicodeAttribute(null=True, attr_name="l")
    reason = UnicodeAttribute(null=True, attr_name="why")
    # The review index's sort key, on queued pre-labels only (see ReviewQueueIndex).
    review = UnicodeAttribute(null=True, attr_name="q")

    review_queue = ReviewQueueIndex()


class CountsModel(TasksTable):
    """One shard's counters (`<project>#counts#<shard>`), changed in the same transactions as
    the shard's tasks and pre-labels they count, so a view reads N items (one BatchGetItem) at
    any project size."""

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


class ReviewedModel(TasksTable):
    """A task's reviewed labels (`<project>#rv#<shard>`, the task's shard), sorted by task id:
    apart from its pre-label, which they never replace. `labels` is compact JSON
    (reviewed_codec.py); `job`/`source` name the import job and the image of its file that
    wrote them (a retried write of the same image is told from a duplicate image)."""

    reviewed_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    task_id = UnicodeAttribute(range_key=True)
    labels = UnicodeAttribute(attr_name="l")
    format = UnicodeAttribute(attr_name="f")
    job_id = UnicodeAttribute(attr_name="j")
    imported_at = UnicodeAttribute(attr_name="at")
    source = NumberAttribute(attr_name="s")
    dropped = NumberAttribute(default=0, attr_name="d")


class ReviewedCountsModel(TasksTable):
    """One shard's count of tasks with reviewed labels and of writes to them
    (`<project>#rvcounts#<shard>`), changed in the same transactions as its reviewed items."""

    counts_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    name = UnicodeAttribute(range_key=True, attr_name="task_id")
    tasks = NumberAttribute(default=0)
    changes = NumberAttribute(default=0)


class QualityItemModel(TasksTable):
    """The project's quality report (`<project>#quality`): per scope a header (summary and
    evidence floors) and one item per class (its tally), all read with one query per scope."""

    quality_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    item = UnicodeAttribute(range_key=True, attr_name="task_id")
    job_id = UnicodeAttribute(attr_name="j")
    body = UnicodeAttribute(attr_name="b")


class RunsTable(Model):
    """The items of the runs table: runs, their mapping snapshots, and an item per batch."""

    class Meta:
        table_name = "prelabel-runs"


class RunModel(RunsTable):
    """A run's status and counters: small, because every batch's commit updates it."""

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


class RunSnapshotModel(RunsTable):
    """The mapping as it was at start (`snapshot#<project>`): a run never sees later edits.
    Apart from RunModel so that the commits do not rewrite it."""

    snapshot_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    run_id = UnicodeAttribute(range_key=True)
    mapping = ListAttribute(of=MappingRowAttr, default=list)
    default_threshold = NumberAttribute(default=0.5)
    entry_names = MapAttribute[str, Any](default=dict)
    batch_size = NumberAttribute(default=32)
    model = ModelPickAttr(null=True)


class BatchItem(RunsTable):
    """An item per batch of a run, in the partition `<PARTITION>#<run id>` of the runs table,
    away from the run items; sorted by batch number."""

    PARTITION: ClassVar[str]

    batch_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    batch = UnicodeAttribute(range_key=True, attr_name="run_id")

    @classmethod
    def key(cls, run_id: str, batch_no: int) -> tuple[str, str]:
        return f"{cls.PARTITION}#{run_id}", f"{batch_no:06d}"


class BatchReceiptModel(BatchItem):
    """One per committed batch, written in the batch's transaction: a retried batch is a no-op."""

    PARTITION = "batch"

    labeled = NumberAttribute()
    committed_at = UnicodeAttribute()


class CrashNoteModel(BatchItem):
    """The image a retried batch is decoding alone: if the worker dies, the next attempt finds
    it here."""

    PARTITION = "crash"

    task_id = UnicodeAttribute()
    crashes = NumberAttribute()


class JobsTable(Model):
    """The items of the jobs table: jobs, and the report of each slice of an import."""

    class Meta:
        table_name = "prelabel-jobs"


class JobModel(JobsTable):
    """A job: kind, status, progress, result. Ids are time-ordered, so a project's partition
    read backwards lists its newest jobs first. Params and result are small JSON texts."""

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
    # A sliced job's current phase: its progress is `done` plus the `done` of each slice of
    # that phase (JobPartModel), which the slices' own writes add to; folded in when it ends.
    phase = NumberAttribute(null=True)


class JobSliceModel(JobsTable):
    """The report of one step of an import (`slice#<job id>`, report number): a retried step
    writes the same key, so it replaces its report instead of adding to it. Numbers are
    zero-padded to 12 digits, so reports read back in slice and step order."""

    slice_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    slice_no = UnicodeAttribute(range_key=True, attr_name="job_id")
    report = UnicodeAttribute()

    @staticmethod
    def key(job_id: str, slice_no: int) -> tuple[str, str]:
        return f"slice#{job_id}", f"{slice_no:012d}"


class JobPartModel(JobsTable):
    """A sliced job's plan of a phase (`part#<job id>`, `<phase>#plan`: the slices' specs, a
    JSON list) and each slice's record (`<phase>#<slice>`: its cursor, committed steps,
    whether it finished, why it failed, its output, and its progress `done`, which the writes
    it counts add to in their own transactions; domain/slices.py)."""

    part_key = UnicodeAttribute(hash_key=True, attr_name="project_key")
    part_no = UnicodeAttribute(range_key=True, attr_name="job_id")
    specs = UnicodeAttribute(null=True)
    spec = UnicodeAttribute(null=True)
    cursor = UnicodeAttribute(null=True)
    step = NumberAttribute(null=True)
    finished = BooleanAttribute(default=False)
    failure = UnicodeAttribute(null=True)
    output = UnicodeAttribute(null=True)
    done = NumberAttribute(null=True)

    @staticmethod
    def partition(job_id: str) -> str:
        return f"part#{job_id}"

    @staticmethod
    def plan_key(phase: int) -> str:
        return f"{phase:02d}#plan"

    @staticmethod
    def slice_key(phase: int, number: int) -> str:
        return f"{phase:02d}#{number:06d}"


class ModelsTable(Model):
    """The items of the models table: an organization's models under `<org>`, and each model's
    versions (`v#<sha256>`) and uploads (`u#<upload id>`) under `<org>#<model>`, so listing the
    models reads no version and reading a model reads no other model."""

    class Meta:
        table_name = "prelabel-models"


class DetectorModelItem(ModelsTable):
    owner_key = UnicodeAttribute(hash_key=True)  # <org>
    item_key = UnicodeAttribute(range_key=True)  # <model id>
    name = UnicodeAttribute()
    family = UnicodeAttribute()
    input_width = NumberAttribute()
    input_height = NumberAttribute()
    # JSON texts, read whole: the normalisation object and up to 1,000 class names.
    normalisation = UnicodeAttribute()
    classes = UnicodeAttribute()
    created_at = UnicodeAttribute()
    # Project ids that picked the model, changed in the same transaction as each pick.
    used_by = UnicodeSetAttribute(null=True)
    # The version that became READY last (the default a project picks).
    latest_ready = UnicodeAttribute(null=True)


class ModelVersionItem(ModelsTable):
    owner_key = UnicodeAttribute(hash_key=True)  # <org>#<model id>
    item_key = UnicodeAttribute(range_key=True)  # v#<sha256>
    status = UnicodeAttribute()
    size_bytes = NumberAttribute()
    upload_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    figures = UnicodeAttribute(null=True)  # JSON: the validator's figures


class ModelUploadItem(ModelsTable):
    owner_key = UnicodeAttribute(hash_key=True)  # <org>#<model id>
    item_key = UnicodeAttribute(range_key=True)  # u#<upload id>
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    version = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)


POOL_CONNECTIONS = 32

# Model -> the Settings field naming its table.
TABLE_OF: dict[type[Model], str] = {
    OrganizationModel: "organizations_table",
    ProjectModel: "projects_table",
    DatasetModel: "datasets_table",
    TaskModel: "tasks_table",
    PrelabelModel: "tasks_table",
    CountsModel: "tasks_table",
    ReviewedModel: "tasks_table",
    ReviewedCountsModel: "tasks_table",
    QualityItemModel: "tasks_table",
    RunModel: "runs_table",
    RunSnapshotModel: "runs_table",
    BatchReceiptModel: "runs_table",
    CrashNoteModel: "runs_table",
    JobModel: "jobs_table",
    JobSliceModel: "jobs_table",
    DetectorModelItem: "models_table",
    ModelVersionItem: "models_table",
    ModelUploadItem: "models_table",
    JobPartModel: "jobs_table",
}


def bind_tables(settings: Settings) -> None:
    """Point every model at this deployment's tables; called once per cold start."""
    share_with_pynamodb()
    for model, field in TABLE_OF.items():
        # A function without this table in its environment never touches it; if it did, the
        # error would name the missing variable.
        alias = type(settings).model_fields[field].alias
        model.Meta.table_name = getattr(settings, field) or f"unset-{alias}"
        model.Meta.region = settings.region
        model.Meta.host = settings.dynamodb_endpoint
        # A view queries each of a project's shards at once (shards.merged): one connection
        # each, kept, instead of botocore's 10 and new ones for the rest.
        model.Meta.max_pool_connections = POOL_CONNECTIONS
        # pynamodb caches the connection per class; a new binding must not reuse the old one.
        model._connection = None
