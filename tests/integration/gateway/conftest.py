"""A local gateway on a free port, in front of the API handler bound to fresh tables."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from prelabel.container import Container
from prelabel_local import harness
from prelabel_local.gateway import GatewayConfig, LocalGateway
from prelabel_local.http_events import InProcessApi, call_api
from prelabel_local.jwt_keys import JwtVerifier, SigningKey, generate_key, issue_token
from tests.integration.core.conftest import make_org

__all__ = ["contract_target", "gateway", "make_org", "signing_key", "static_dir"]

CONFIG = [{"id": "veh", "name": "Vehicle", "geometry": "bbox"}]


@dataclass(frozen=True)
class ContractTarget:
    base_url: str
    headers: dict[str, str]
    # Ids of real objects of the caller's organization, for cases that should find something.
    ids: dict[str, str]


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    # A key of the test's own, so the tests never depend on (or write) the repository's .local/.
    return generate_key()


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "web"
    folder.mkdir()
    (folder / "index.html").write_text("<h1>Prelabel</h1>")
    (folder / "app.js").write_text("console.log('hi')")
    (tmp_path / "secret.txt").write_text("outside the static folder")
    return folder


@pytest.fixture
def gateway(ports: Container, signing_key: SigningKey, static_dir: Path) -> Iterator[str]:
    server = LocalGateway(GatewayConfig(JwtVerifier.for_key(signing_key), static_dir)).start()
    yield server.url
    server.stop()


@pytest.fixture
def contract_target(
    gateway: str, signing_key: SigningKey, ports: Container, make_org
) -> ContractTarget:  # type: ignore[no-untyped-def]
    """An organization with a project, a dataset of two images and its tasks, behind the gateway."""
    org = make_org("org-contract")
    s3 = boto3.client("s3")
    for i in range(2):
        s3.put_object(Bucket=ports.settings.data_bucket, Key=f"{org}/cam/{i}.jpg", Body=b"img")
    project = call_api("POST", "/projects", org, {"name": "P", "label_config": CONFIG}).body
    dataset = call_api(
        "POST",
        f"/projects/{project['project_id']}/datasets",
        org,
        {"bucket": ports.settings.data_bucket, "prefix": f"{org}/cam/"},
    ).body
    dataset = harness.wait_for_dataset(
        InProcessApi(org), project["project_id"], dataset["dataset_id"]
    )
    task = call_api("GET", f"/projects/{project['project_id']}/tasks", org).body["tasks"][0]
    declared = {"name": "M", "family": "yolox", "input_size": [416, 416], "classes": ["a", "b"]}
    model = call_api("POST", "/models", org, declared).body
    token = issue_token(signing_key, org_id=org)
    return ContractTarget(
        f"{gateway}/api",
        {"Authorization": f"Bearer {token}"},
        {
            "project_id": project["project_id"],
            "dataset_id": dataset["dataset_id"],
            "task_id": task["task_id"],
            "job_id": dataset["job_id"],
            "model_id": model["model"]["model_id"],
        },
    )
