"""One validated settings object per function, read once at cold start from the environment."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from prelabel.domain.plans import DEFAULT_MONTHLY_LIMITS, Plan


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    organizations_table: str = "prelabel-organizations"
    projects_table: str = "prelabel-projects"
    datasets_table: str = "prelabel-datasets"
    tasks_table: str = "prelabel-tasks"
    runs_table: str = "prelabel-runs"
    data_bucket: str = "prelabel-data"
    dataset_buckets: tuple[str, ...] = ()
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    org_claim: str = "custom:org_id"
    plan_limits: dict[Plan, int] = Field(default_factory=lambda: dict(DEFAULT_MONTHLY_LIMITS))
    state_machine_arn: str = ""
    detector_endpoint: str = "prelabel-detector"
    # 32 images per batch: 0.03 endpoint calls per image, 35 items per commit transaction (<100).
    batch_size: int = Field(default=32, ge=1, le=90)
    detector_input_size: int = Field(default=416, ge=64, le=2048)
    # Seals task-list cursors (CURSOR_KEY). Tenancy does not rest on it: a cursor only ever
    # positions inside the caller's own project. Without it, a key derived from the tasks
    # table's name still makes garbled, edited and cross-project cursors a 400.
    cursor_key: str = ""

    @property
    def cursor_mac_key(self) -> bytes:
        if self.cursor_key:
            return self.cursor_key.encode()
        return hashlib.sha256(f"prelabel-cursor:{self.tasks_table}".encode()).digest()

    @property
    def readable_dataset_buckets(self) -> tuple[str, ...]:
        return self.dataset_buckets or (self.data_bucket,)

    @property
    def grant_buckets(self) -> tuple[str, ...]:
        """Buckets an operator may grant to organizations (the template's DatasetBuckets)."""
        return tuple(b for b in self.dataset_buckets if b != self.data_bucket)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        limits = dict(DEFAULT_MONTHLY_LIMITS)
        for plan in Plan:
            raw = env.get(f"PLAN_LIMIT_{plan.value}")
            if raw is not None:
                limits[plan] = int(raw)
        defaults = cls()
        buckets = tuple(b.strip() for b in env.get("DATASET_BUCKETS", "").split(",") if b.strip())
        return cls(
            organizations_table=env.get("ORGANIZATIONS_TABLE", defaults.organizations_table),
            projects_table=env.get("PROJECTS_TABLE", defaults.projects_table),
            datasets_table=env.get("DATASETS_TABLE", defaults.datasets_table),
            tasks_table=env.get("TASKS_TABLE", defaults.tasks_table),
            runs_table=env.get("RUNS_TABLE", defaults.runs_table),
            data_bucket=env.get("DATA_BUCKET", defaults.data_bucket),
            dataset_buckets=buckets,
            region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", defaults.region)),
            dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
            org_claim=env.get("ORG_CLAIM", defaults.org_claim),
            plan_limits=limits,
            state_machine_arn=env.get("STATE_MACHINE_ARN", ""),
            detector_endpoint=env.get("DETECTOR_ENDPOINT_NAME", defaults.detector_endpoint),
            batch_size=int(env.get("BATCH_SIZE", defaults.batch_size)),
            detector_input_size=int(env.get("DETECTOR_INPUT_SIZE", defaults.detector_input_size)),
            cursor_key=env.get("CURSOR_KEY", ""),
        )
