"""The one validated settings object every function reads, once, at cold start.

Each field names the environment variable it comes from. Tables and the data bucket have no
default: each function names what it needs (FUNCTION_NEEDS), and one deployed without those
fails at cold start naming the variables, instead of quietly using a table that is not this
deployment's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from prelabel.domain.plans import DEFAULT_MONTHLY_LIMITS, Plan


class ConfigurationError(RuntimeError):
    """The function's environment is missing a variable or holds a bad value."""


def _csv(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    organizations_table: str | None = Field(default=None, alias="ORGANIZATIONS_TABLE", min_length=1)
    projects_table: str | None = Field(default=None, alias="PROJECTS_TABLE", min_length=1)
    datasets_table: str | None = Field(default=None, alias="DATASETS_TABLE", min_length=1)
    tasks_table: str | None = Field(default=None, alias="TASKS_TABLE", min_length=1)
    runs_table: str | None = Field(default=None, alias="RUNS_TABLE", min_length=1)
    jobs_table: str | None = Field(default=None, alias="JOBS_TABLE", min_length=1)
    models_table: str | None = Field(default=None, alias="MODELS_TABLE", min_length=1)
    # Uploaded model files (uploads/<org>/...) and the endpoint's artifacts (artifacts/...).
    models_bucket: str | None = Field(default=None, alias="MODELS_BUCKET", min_length=1)
    data_bucket: str | None = Field(default=None, alias="DATA_BUCKET", min_length=1)
    dataset_buckets: Annotated[tuple[str, ...], BeforeValidator(_csv)] = Field(
        default=(), alias="DATASET_BUCKETS"
    )
    region: str = Field(default="us-east-1", alias="AWS_REGION")
    dynamodb_endpoint: str | None = Field(default=None, alias="AWS_ENDPOINT_URL_DYNAMODB")
    org_claim: str = Field(default="custom:org_id", alias="ORG_CLAIM")
    plan_limit_free: int = Field(
        default=DEFAULT_MONTHLY_LIMITS[Plan.FREE], alias="PLAN_LIMIT_FREE", ge=0
    )
    plan_limit_team: int = Field(
        default=DEFAULT_MONTHLY_LIMITS[Plan.TEAM], alias="PLAN_LIMIT_TEAM", ge=0
    )
    plan_limit_team_pro: int = Field(
        default=DEFAULT_MONTHLY_LIMITS[Plan.TEAM_PRO], alias="PLAN_LIMIT_TEAM_PRO", ge=0
    )
    # Only the functions that start or stop executions need it; they check it on first use.
    state_machine_arn: str = Field(default="", alias="STATE_MACHINE_ARN")
    # The jobs state machine (imports, moves, disconnects, reconnects, exports): the API starts it.
    jobs_state_machine_arn: str = Field(default="", alias="JOBS_STATE_MACHINE_ARN")
    detector_endpoint: str = Field(default="prelabel-detector", alias="DETECTOR_ENDPOINT_NAME")
    # The multi-model endpoint serving the organizations' models (TargetModel); empty: the
    # detector endpoint above (the local server serves both).
    models_endpoint: str = Field(default="", alias="MODELS_ENDPOINT_NAME")
    # The model validation job's state machine: the API starts it.
    model_validation_state_machine_arn: str = Field(
        default="", alias="MODEL_VALIDATION_STATE_MACHINE_ARN"
    )
    # 48 images per batch, the cheapest per image (benchmarks/workflow_cost.py's table, in
    # docs/benchmarks.md): fewer child executions, manifest objects and commits per image. At
    # most 48: a commit holds the batch's pre-labels, three fixed items and the counters of each
    # shard its tasks are in (a small run's batch may span as many shards as it has tasks), and
    # a transaction takes 100 items.
    batch_size: int = Field(default=48, alias="BATCH_SIZE", ge=1, le=48)
    # How many shards a new project's tasks, pre-labels and counters are spread over (fixed at
    # its creation; a reshard job moves a legacy project's tasks to this many): each shard's
    # partitions take ~1,000 write units/s, so 16 carry a project's jobs at ~1,200 tasks/s
    # with room (benchmarks/partition_heat.py). Views read one query or item per shard.
    task_shards: int = Field(default=16, alias="TASK_SHARDS", ge=1, le=64)
    # A run's concurrency (prelabel.domain.run_concurrency): the endpoint's instances x one
    # instance's images/s (its CAPACITY_TAG, or DETECTOR_IMAGES_PER_SECOND where it has none) /
    # what one worker pushes (BATCH_SIZE over WORKER_SECONDS_PER_BATCH plus the endpoint's time
    # for the batch), at most MAX_CONCURRENCY: the Lambda concurrency reserved for LabelBatch.
    max_concurrency: int = Field(default=150, alias="MAX_CONCURRENCY", ge=1, le=10_000)
    detector_images_per_second: float = Field(
        default=1000.0, alias="DETECTOR_IMAGES_PER_SECOND", gt=0, le=1_000_000
    )
    # The template's WorkerSecondsPerBatch: 48 images on 512 MB (benchmarks/workflow_cost.py).
    worker_seconds_per_batch: float = Field(
        default=1.53, alias="WORKER_SECONDS_PER_BATCH", ge=0, le=900
    )
    # Slices of one job run at the same time (the jobs' Distributed Map MaxConcurrency).
    job_max_concurrency: int = Field(default=8, alias="JOB_MAX_CONCURRENCY", ge=1, le=1_000)
    detector_input_size: int = Field(default=416, alias="DETECTOR_INPUT_SIZE", ge=64, le=2048)
    # Seals task-list cursors. Tenancy does not rest on it: a cursor only ever positions inside
    # the caller's own project. Without it, a key derived from the tasks table's name still
    # makes garbled, edited and cross-project cursors a 400.
    cursor_key: str = Field(default="", alias="CURSOR_KEY")

    @property
    def cursor_mac_key(self) -> bytes:
        if self.cursor_key:
            return self.cursor_key.encode()
        return hashlib.sha256(f"prelabel-cursor:{self.tasks_table}".encode()).digest()

    @property
    def grant_buckets(self) -> tuple[str, ...]:
        """Buckets an operator may grant to organizations (the template's DatasetBuckets)."""
        return tuple(b for b in self.dataset_buckets if b != self.data_bucket)

    @property
    def plan_limits(self) -> dict[Plan, int]:
        return {
            Plan.FREE: self.plan_limit_free,
            Plan.TEAM: self.plan_limit_team,
            Plan.TEAM_PRO: self.plan_limit_team_pro,
        }

    @property
    def readable_dataset_buckets(self) -> tuple[str, ...]:
        return self.dataset_buckets or ((self.data_bucket,) if self.data_bucket else ())

    def require(self, *fields: str) -> Settings:
        """ConfigurationError naming each variable that `fields` need and the environment lacks."""
        missing = [type(self).model_fields[f].alias or f for f in fields if not getattr(self, f)]
        if missing:
            raise ConfigurationError(
                "the function's environment is incomplete: "
                + "; ".join(f"{name}: Field required" for name in missing)
            )
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str], function: str | None = None) -> Settings:
        """The settings of `env`, checked for what `function` (a FUNCTION_NEEDS key) needs."""
        values = dict(env)
        if "AWS_REGION" not in values and "AWS_DEFAULT_REGION" in values:
            values["AWS_REGION"] = values["AWS_DEFAULT_REGION"]
        if not values.get("AWS_ENDPOINT_URL_DYNAMODB"):
            values.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else "?"
                problems.append(f"{name}: {err['msg']}")
            raise ConfigurationError(
                "the function's environment is incomplete: " + "; ".join(problems)
            ) from exc
        return settings.require(*FUNCTION_NEEDS.get(function or "", ()))


_TABLES = (
    "organizations_table",
    "projects_table",
    "datasets_table",
    "tasks_table",
    "runs_table",
    "jobs_table",
    "models_table",
)
# What each function's code reads (the template gives each function exactly these).
FUNCTION_NEEDS: dict[str, tuple[str, ...]] = {
    "api": (
        *_TABLES,
        "data_bucket",
        "models_bucket",
        "state_machine_arn",
        "jobs_state_machine_arn",
        "model_validation_state_machine_arn",
    ),
    "prepare": (
        "organizations_table",
        "projects_table",
        "tasks_table",
        "runs_table",
        "data_bucket",
    ),
    "label_batch": ("organizations_table", "projects_table", "tasks_table", "runs_table"),
    "finish": ("projects_table", "runs_table"),
    "reset_quota": ("organizations_table",),
    "job_step": (
        "organizations_table",
        "projects_table",
        "datasets_table",
        "tasks_table",
        "runs_table",
        "jobs_table",
        "data_bucket",
        "jobs_state_machine_arn",
    ),
    "job_finish": ("datasets_table", "jobs_table"),
    "model_validation": ("models_table", "models_bucket"),
}
