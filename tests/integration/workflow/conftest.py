"""The whole workflow on the local stack: the real ASL in moto's Step Functions, the real Lambda
handlers, DynamoDB Local, moto's S3 and the local detector endpoint with a real model."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from prelabel.container import Container, use_container
from prelabel.domain.entities import ProjectRef
from prelabel.domain.imports import task_id_for
from prelabel.settings import Settings
from prelabel_local import harness
from prelabel_local.demo_project import LABEL_CONFIG
from prelabel_local.detector_endpoint import register_endpoint
from prelabel_local.http_events import InProcessApi
from prelabel_local.lambdas import LambdaRunner
from prelabel_local.stack import DETECTOR_ENDPOINT, function_env, start_detector
from prelabel_local.template_resources import TABLE_SETTING
from prelabel_local.workflow_resources import (
    create_state_machine,
    enable_step_functions_execution,
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
    jobs_state_machine_arn: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Container]:
    """Every function of the stack reads the same environment, as each Lambda would its own.

    Runs go at the concurrency Prepare computes from the local endpoint (one instance at the
    local rate: 4 workers of batches of 8), under a bound of 8; a test may re-register the
    endpoint with other figures (detector_endpoint.register_endpoint) or lower the bound."""
    register_endpoint(boto3.client("sagemaker", endpoint_url=moto_endpoint), DETECTOR_ENDPOINT)
    tables = {logical: str(getattr(settings, field)) for logical, field in TABLE_SETTING.items()}
    env = function_env(
        tables,
        bucket=str(settings.data_bucket),
        dynamodb_endpoint=settings.dynamodb_endpoint or "",
        moto_endpoint=moto_endpoint,
        detector_url=detector_url,
        state_machine_arn=state_machine_arn,
        jobs_state_machine_arn=jobs_state_machine_arn,
        batch_size=8,
        max_concurrency=8,
        models_bucket=str(settings.models_bucket),
        model_validation_state_machine_arn=settings.model_validation_state_machine_arn,
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # One container serves the API and the workflow's handlers, as each reads the same env.
    container = Container(Settings.from_env(os.environ))
    use_container(container)
    yield container
    use_container(None)


def reconfigure(c: Container, **changes: Any) -> Container:
    """A container whose settings differ in `changes` (e.g. max_concurrency), installed for the
    API and the workflow's handlers alike, as a redeploy with other parameters would."""
    changed = Container(c.settings.model_copy(update=changes))
    use_container(changed)
    return changed


# The demo's label configuration: three bbox entries and a polygon one that takes no classes.
CONFIG = LABEL_CONFIG
MAPPING = {
    "rows": [
        {"detector_class": c, "entry_id": "vehicle"} for c in ("car", "truck", "bus", "motorcycle")
    ]
    + [{"detector_class": "person", "entry_id": "person"}]
    + [
        {"detector_class": c, "entry_id": "animal"} for c in ("cat", "dog", "horse", "bird", "bear")
    ],
    "default_threshold": 0.3,
}


def photos() -> list[bytes]:
    found = [p.read_bytes() for p in sorted(COCO_DIR.glob("*.jpg"))]
    assert found, f"no photos under {COCO_DIR}: the tests need ../shared next to the checkout"
    return found


def _corrupt_first(
    api: InProcessApi, pid: str, bucket: str, dataset: dict[str, Any], good: list[str], n: int
) -> dict[str, Any]:
    """Add `n` corrupt files to the dataset, named so that their tasks sort before every other
    one (task ids are hashes of the dataset, its generation and the key), and reconnect it: the
    run's first batch holds them, whatever the limit leaves out at the end."""
    org = api.org
    generation = int(dataset["generation"]) + 1  # what the reconnect gives
    lowest = min(task_id_for(dataset["dataset_id"], generation, bucket, key) for key in good)
    names: list[str] = []
    salt = 0
    while len(names) < n:
        key = f"{org}/w/a_corrupt_{len(names)}_{salt}.jpg"
        if task_id_for(dataset["dataset_id"], generation, bucket, key) < lowest:
            names.append(key)
        salt += 1
    harness.put_objects(bucket, [(key, b"not a jpeg at all") for key in names])
    api.json("POST", f"/projects/{pid}/datasets/{dataset['dataset_id']}/reconnect")
    return harness.wait_for_dataset(api, pid, dataset["dataset_id"])


def make_project(
    c: Container,
    org: str,
    *,
    waiting: int,
    backlog: int = 0,
    corrupt: int = 0,
    limit: int | None = None,
) -> ProjectRef:
    """An org on TEAM_PRO with a mapped project; corrupt files sort first (first batch)."""
    harness.seed_organization(c, org, remaining=limit)
    api = InProcessApi(org)
    pid = harness.create_project(api, "Streets", CONFIG)
    bucket = c.settings.data_bucket
    pics = photos()
    good = [(f"{org}/w/img_{i:04d}.jpg", pics[i % len(pics)]) for i in range(waiting - corrupt)]
    harness.put_objects(
        bucket, good + [(f"{org}/b/img_{i:04d}.jpg", pics[i % len(pics)]) for i in range(backlog)]
    )
    dataset = harness.connect_dataset(api, pid, bucket, f"{org}/w/")
    if corrupt:
        dataset = _corrupt_first(api, pid, bucket, dataset, [k for k, _ in good], corrupt)
    if backlog:
        harness.connect_dataset(api, pid, bucket, f"{org}/b/")
    ids = [t["task_id"] for t in harness.all_tasks(api, pid, dataset_id=dataset["dataset_id"])]
    assert harness.move_tasks(api, pid, ids) == waiting
    api.json("PUT", f"/projects/{pid}/mapping", MAPPING)
    return ProjectRef(org, pid)


def wait_for_end(ref: ProjectRef, timeout: float = 240) -> dict[str, Any]:
    return harness.wait_for_run_end(InProcessApi(ref.org_id), ref.project_id, timeout)


def all_tasks(ref: ProjectRef) -> list[dict[str, Any]]:
    return harness.all_tasks(InProcessApi(ref.org_id), ref.project_id)


@pytest.fixture
def project_factory(stack: Container) -> Callable[..., ProjectRef]:
    return lambda org, **kw: make_project(stack, org, **kw)
