"""Every route, called by organization B on organization A's objects: 404, and nothing of A leaks."""

from __future__ import annotations

import json

import boto3
import pytest

from prelabel.api.app import app
from prelabel.wiring import Ports
from tests.integration.core.api_client import Reply, call

CONFIG = [{"id": "veh", "name": "SecretVehicle", "geometry": "bbox"}]

# Each route with the body B sends; {p}, {d}, {t} are A's ids (or B's own project for {bp}).
MATRIX: dict[tuple[str, str], dict | None] = {
    ("GET", "/projects/{project_id}"): None,
    ("PUT", "/projects/{project_id}/label-config"): {"label_config": CONFIG},
    ("GET", "/projects/{project_id}/datasets"): None,
    ("POST", "/projects/{project_id}/datasets"): {"bucket": "{bucket}", "prefix": "org-a/a/"},
    ("DELETE", "/projects/{project_id}/datasets/{dataset_id}"): None,
    ("POST", "/projects/{project_id}/datasets/{dataset_id}/reconnect"): None,
    ("GET", "/projects/{project_id}/tasks"): None,
    ("GET", "/projects/{project_id}/tasks/{task_id}"): None,
    ("GET", "/projects/{project_id}/tasks/{task_id}/image"): None,
    ("POST", "/projects/{project_id}/tasks/move"): {
        "from": "BACKLOG",
        "to": "WAITING",
        "all": True,
    },
    ("GET", "/projects/{project_id}/mapping"): None,
    ("PUT", "/projects/{project_id}/mapping"): {"rows": []},
    ("GET", "/projects/{project_id}/assistant"): None,
    ("POST", "/projects/{project_id}/runs"): {"confirm": True},
    ("POST", "/projects/{project_id}/runs/stop"): None,
    ("GET", "/projects/{project_id}/runs/current"): None,
    ("GET", "/projects/{project_id}/export"): None,
}
ORG_LEVEL = {
    ("GET", "/projects"),
    ("POST", "/projects"),
    ("GET", "/detector-classes"),
    ("GET", "/limit"),
}


def _registered_routes() -> set[tuple[str, str]]:
    return {(r.method, r.openapi_path) for r in app._static_routes + app._dynamic_routes}


@pytest.fixture
def a_world(ports: Ports, make_org) -> dict[str, str]:
    make_org("org-a")
    make_org("org-b")
    bucket = ports.settings.data_bucket
    s3 = boto3.client("s3")
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"org-a/a/{i}.jpg", Body=b"img")
    pid = call(
        "POST", "/projects", "org-a", {"name": "Secret Streets", "label_config": CONFIG}
    ).body["project_id"]
    ds = call(
        "POST", f"/projects/{pid}/datasets", "org-a", {"bucket": bucket, "prefix": "org-a/a/"}
    ).body
    call(
        "PUT",
        f"/projects/{pid}/mapping",
        "org-a",
        {"rows": [{"detector_class": "car", "entry_id": "veh"}]},
    )
    tid = call("GET", f"/projects/{pid}/tasks", "org-a").body["tasks"][0]["task_id"]
    b_config = [{"id": "b", "name": "B box", "geometry": "bbox"}]
    bpid = call("POST", "/projects", "org-b", {"name": "B's", "label_config": b_config}).body[
        "project_id"
    ]
    return {
        "project_id": pid,
        "dataset_id": ds["dataset_id"],
        "task_id": tid,
        "bucket": bucket,
        "b_project": bpid,
    }


def _fill(path: str, ids: dict[str, str]) -> str:
    for key, value in ids.items():
        path = path.replace("{" + key + "}", value)
    return path


def _leaks(reply: Reply, ids: dict[str, str]) -> list[str]:
    text = json.dumps(reply.body)
    secrets = [
        ids["project_id"],
        ids["dataset_id"],
        ids["task_id"],
        "Secret Streets",
        "SecretVehicle",
    ]
    return [s for s in secrets if s in text]


def test_matrix_covers_every_registered_route() -> None:
    # Given the routes the resolver registers; Then each is in the matrix or is org-level
    assert _registered_routes() == set(MATRIX) | ORG_LEVEL


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_other_org_gets_404_and_no_data(
    a_world: dict[str, str], ports: Ports, method: str, path: str
) -> None:
    # Given A's project, dataset, task and mapping
    body = MATRIX[(method, path)]
    if body and body.get("bucket") == "{bucket}":
        body = {**body, "bucket": a_world["bucket"]}
    before = call("GET", f"/projects/{a_world['project_id']}/tasks", "org-a").body
    # When B calls the route with A's ids
    reply = call(method, _fill(path, a_world), "org-b", body)
    # Then B gets 404, indistinguishable from an absent id, and nothing of A's leaks
    absent = call(method, _fill(path, {**a_world, "project_id": "prj_absent"}), "org-b", body)
    assert reply.status == 404, (method, path, reply.body)
    assert reply.body == json.loads(
        json.dumps(absent.body).replace("prj_absent", a_world["project_id"])
    )
    assert _leaks(reply, a_world) == [a_world["project_id"]] or _leaks(reply, a_world) == []
    # And A's objects are unchanged
    after = call("GET", f"/projects/{a_world['project_id']}/tasks", "org-a").body
    assert after == before
    assert (
        call("GET", f"/projects/{a_world['project_id']}/mapping", "org-a").body["rows"][0][
            "detector_class"
        ]
        == "car"
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/projects/{b_project}/tasks/{task_id}"),
        ("DELETE", "/projects/{b_project}/datasets/{dataset_id}"),
        ("POST", "/projects/{b_project}/datasets/{dataset_id}/reconnect"),
    ],
)
def test_other_org_cannot_reach_a_objects_through_its_own_project(
    a_world: dict[str, str], method: str, path: str
) -> None:
    # Given B's own project; When B names A's dataset or task under it
    reply = call(method, _fill(path, a_world), "org-b")
    # Then 404 and no data of A
    assert reply.status == 404
    assert _leaks(reply, a_world) in ([], [a_world["dataset_id"]], [a_world["task_id"]])


def test_org_level_routes_show_only_the_callers_own_data(a_world: dict[str, str]) -> None:
    # When B lists projects and reads its limit
    projects = call("GET", "/projects", "org-b")
    limit = call("GET", "/limit", "org-b")
    # Then B sees only its own project, and nothing of A appears anywhere
    assert [p["project_id"] for p in projects.body] == [a_world["b_project"]]
    assert _leaks(projects, a_world) == [] and _leaks(limit, a_world) == []
    # And a project B creates cannot be placed in A's organization by the body
    forged = call(
        "POST", "/projects", "org-b", {"name": "x", "label_config": CONFIG, "org_id": "org-a"}
    )
    assert forged.status == 422
