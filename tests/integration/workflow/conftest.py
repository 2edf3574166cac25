"""The whole workflow on the local stack: the real ASL in moto's Step Functions, the real Lambda
handlers, DynamoDB Local, moto's S3 and the local detector endpoint with a real model."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from prelabel.api import deps
from prelabel.domain.entities import ProjectRef
from prelabel.domain.plans import Plan
from prelabel.entrypoints import workflow_env
from prelabel.services.organizations import provision_organization
from prelabel.settings import Settings
from prelabel.wiring import Ports, dynamo_ports
from prelabel_local.http_events import call_api
from prelabel_local.lambdas import LambdaRunner
from prelabel_local.stack import function_env, start_detector
from prelabel_local.workflow_resources import (
    create_state_machine,
    enable_step_functions_execution,
    register_functions,
)

ROOT = Path(__file__).resolve().parents[3]
YOLOX_DIR = ROOT.parent / "shared" / "models" / "yolox-nano"
COCO_DIR = ROOT.parent / "shared" / "data" / "coco-val-sample"


@pytest.fixture(scope="session")
def detector_url() -> Iterator[str]:
    # YOLOX-Nano is 4x faster on this CPU; the registry's SSD model serves when it is absent.
    server = start_detector(YOLOX_DIR)
    yield str(server.url)
    server.shutdown()


@pytest.fixture(scope="session")
def lambda_runner(template: dict[str, Any]) -> Iterator[LambdaRunner]:
    runner = LambdaRunner()
    register_functions(ROOT, template, runner)
    runner.install()
    yield runner
    runner.uninstall()


@pytest.fixture(scope="session")
def state_machine_arn(
    moto_endpoint: str, template: dict[str, Any], lambda_runner: LambdaRunner
) -> str:
    enable_step_functions_execution(moto_endpoint)
    sfn = boto3.client("stepfunctions", endpoint_url=moto_endpoint)
    return create_state_machine(sfn, ROOT, template, "prelabel-local")


@pytest.fixture
def stack(
    settings: Settings,
    state_machine_arn: str,
    detector_url: str,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Ports]:
    """Every function of the stack reads the same environment, as each Lambda would its own."""
    tables = {
        "OrganizationsTable": settings.organizations_table,
        "ProjectsTable": settings.projects_table,
        "DatasetsTable": settings.datasets_table,
        "TasksTable": settings.tasks_table,
        "RunsTable": settings.runs_table,
    }
    env = function_env(
        tables,
        bucket=settings.data_bucket,
        dynamodb_endpoint=settings.dynamodb_endpoint or "",
        moto_endpoint=moto_endpoint,
        detector_url=detector_url,
        state_machine_arn=state_machine_arn,
        batch_size=8,
        max_concurrency=4,
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    workflow_env.ports.cache_clear()
    ports = dynamo_ports(Settings.from_env(os.environ))
    deps.use_ports(ports)
    yield ports
    deps.use_ports(None)
    workflow_env.ports.cache_clear()


CONFIG = [
    {"id": "veh", "name": "Vehicle", "geometry": "bbox"},
    {"id": "per", "name": "Person", "geometry": "bbox"},
    {"id": "ani", "name": "Animal", "geometry": "bbox"},
    {"id": "road", "name": "Road", "geometry": "polygon"},
]
MAPPING = {
    "rows": [
        {"detector_class": c, "entry_id": "veh"} for c in ("car", "truck", "bus", "motorcycle")
    ]
    + [{"detector_class": "person", "entry_id": "per"}]
    + [{"detector_class": c, "entry_id": "ani"} for c in ("cat", "dog", "horse", "bird", "bear")],
    "default_threshold": 0.3,
}


def photos() -> list[bytes]:
    return [p.read_bytes() for p in sorted(COCO_DIR.glob("*.jpg"))]


def make_project(
    ports: Ports,
    org: str,
    *,
    waiting: int,
    backlog: int = 0,
    corrupt: int = 0,
    limit: int | None = None,
) -> ProjectRef:
    """An org on TEAM_PRO with a mapped project; corrupt files sort first (first batch)."""
    provision_organization(
        ports.orgs,
        ports.settings.plan_limits,
        org_id=org,
        name=org,
        plan=Plan.TEAM_PRO,
        period="2026-11",
    )
    if limit is not None:
        from prelabel.adapters.dynamodb.models import OrganizationModel

        OrganizationModel(org).update(actions=[OrganizationModel.remaining.set(limit)])
    pid = call_api("POST", "/projects", org, {"name": "Streets", "label_config": CONFIG}).body[
        "project_id"
    ]
    s3 = boto3.client("s3")
    bucket = ports.settings.data_bucket
    pics = photos()
    for i in range(corrupt):
        s3.put_object(Bucket=bucket, Key=f"{org}/w/a_corrupt_{i}.jpg", Body=b"not a jpeg at all")
    for i in range(waiting - corrupt):
        s3.put_object(Bucket=bucket, Key=f"{org}/w/img_{i:04d}.jpg", Body=pics[i % len(pics)])
    for i in range(backlog):
        s3.put_object(Bucket=bucket, Key=f"{org}/b/img_{i:04d}.jpg", Body=pics[i % len(pics)])
    call_api("POST", f"/projects/{pid}/datasets", org, {"bucket": bucket, "prefix": f"{org}/w/"})
    if backlog:
        call_api(
            "POST", f"/projects/{pid}/datasets", org, {"bucket": bucket, "prefix": f"{org}/b/"}
        )
    waiting_dataset = call_api("GET", f"/projects/{pid}/datasets", org).body[0]["dataset_id"]
    ids = [
        t["task_id"]
        for t in call_api(
            "GET",
            f"/projects/{pid}/tasks",
            org,
            query={"dataset_id": waiting_dataset, "limit": "200"},
        ).body["tasks"]
    ]
    moved = call_api(
        "POST",
        f"/projects/{pid}/tasks/move",
        org,
        {"from": "BACKLOG", "to": "WAITING", "task_ids": ids},
    )
    assert moved.body["moved"] == waiting
    assert call_api("PUT", f"/projects/{pid}/mapping", org, MAPPING).status == 200
    return ProjectRef(org, pid)


def wait_for_end(ref: ProjectRef, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = call_api("GET", f"/projects/{ref.project_id}/runs/current", ref.org_id)
        if reply.body["status"] not in ("RUNNING", "STOPPING"):
            return dict(reply.body)
        time.sleep(0.5)
    raise TimeoutError(f"run of {ref.project_id} still active after {timeout}s")


def all_tasks(ref: ProjectRef) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": "200"} | ({"cursor": cursor} if cursor else {})
        page = call_api("GET", f"/projects/{ref.project_id}/tasks", ref.org_id, query=query).body
        tasks += page["tasks"]
        cursor = page["cursor"]
        if not cursor:
            return tasks


@pytest.fixture
def project_factory(stack: Ports) -> Callable[..., ProjectRef]:
    return lambda org, **kw: make_project(stack, org, **kw)
