"""What the API accepts: JSON bodies with real booleans and numbers, cursors it issued for the
same project, organizations an operator set up; every refusal in the one error shape."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from prelabel.api.app import app, handler
from prelabel.container import Container
from prelabel_local import harness
from prelabel_local.http_events import LAMBDA_CONTEXT, InProcessApi, http_api_event
from tests.integration.core.api_client import Reply, call

CONFIG = [{"id": "veh", "name": "Vehicle", "geometry": "bbox"}]
ERROR_KEYS = {"code", "message", "field"}


def send(
    method: str,
    path: str,
    org: str,
    raw: bytes | str | None,
    content_type: str | None = "application/json",
) -> Reply:
    """A request as API Gateway passes it on: binary bodies base64-encoded, headers as sent."""
    claims = {"sub": "u", "custom:org_id": org}
    event = http_api_event(method, path, claims)
    event["headers"] = {"content-type": content_type} if content_type else {}
    if isinstance(raw, bytes):
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    else:
        event["body"] = raw
    result = handler(event, LAMBDA_CONTEXT)  # type: ignore[arg-type]
    return Reply(result["statusCode"], json.loads(result["body"]) if result["body"] else None)


@pytest.fixture
def project(ports: Container, make_org) -> str:  # type: ignore[no-untyped-def]
    make_org("acme")
    return str(
        call("POST", "/projects", "acme", {"name": "P", "label_config": CONFIG}).body["project_id"]
    )


def _mapping_rows(project: str) -> list[dict[str, Any]]:
    return call("GET", f"/projects/{project}/mapping", "acme").body["rows"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rows": [], "default_threshold": True}, "default_threshold"),
        ({"rows": [], "default_threshold": "0.5"}, "default_threshold"),
        ({"rows": [{"detector_class": True, "entry_id": "veh"}]}, "detector_class"),
        (
            {"rows": [{"detector_class": "car", "entry_id": "veh", "min_confidence": "1"}]},
            "min_confidence",
        ),
    ],
)
def test_numbers_are_numbers(project: str, body: dict[str, Any], field: str) -> None:
    # When a mapping arrives with a boolean or a string where a number belongs
    reply = call("PUT", f"/projects/{project}/mapping", "acme", body)
    # Then 422 names the field, and nothing is saved
    assert reply.status == 422, reply.body
    assert field in reply.message and reply.body["code"] == "UNPROCESSABLE_ENTITY"
    assert _mapping_rows(project) == []


@pytest.mark.parametrize("confirm", ["yes", 1, "true", None])
def test_booleans_are_booleans(project: str, confirm: object) -> None:
    # When a run is started with a confirm that is not a JSON boolean
    reply = call("POST", f"/projects/{project}/runs", "acme", {"confirm": confirm})
    # Then 422 names confirm, and no run exists
    assert reply.status == 422, reply.body
    assert reply.body["field"] == "confirm"
    assert call("GET", f"/projects/{project}/runs/current", "acme").status == 404


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"\xff\xfe{\x00}", "application/json", 400),  # not UTF-8
        ('{"rows": [], "default_threshold": NaN}', "application/json", 400),
        ("[" * 5000 + "]" * 5000, "application/json", 400),  # deeper than any parser should go
        ('{"rows": []', "application/json", 400),
        ('{"rows": []}', "application/json; charset=latin-1", 415),
        ('{"rows": []}', "text/plain", 415),
        ("rows=", "application/x-www-form-urlencoded", 415),
        (b"--x\r\n\r\n", "multipart/form-data", 415),  # and no boundary
        ('{"rows": []}', None, 415),
    ],
)
def test_bodies_that_are_not_utf8_json_are_refused(
    project: str, raw: bytes | str, content_type: str | None, status: int
) -> None:
    # When a write route gets a body that is not UTF-8 JSON, or is labeled as something else
    reply = send("PUT", f"/projects/{project}/mapping", "acme", raw, content_type)
    # Then 400 or 415 in the one error shape, naming the body, and nothing is saved
    assert reply.status == status, reply.body
    assert set(reply.body) == ERROR_KEYS and reply.body["field"] == "body"
    assert _mapping_rows(project) == []


def test_json_in_base64_and_structured_json_types_are_accepted(project: str) -> None:
    # When a valid mapping arrives base64-encoded (as API Gateway passes binary), as +json
    body = {"rows": [{"detector_class": "car", "entry_id": "veh"}]}
    reply = send(
        "PUT",
        f"/projects/{project}/mapping",
        "acme",
        json.dumps(body).encode(),
        "application/merge-patch+json; charset=UTF-8",
    )
    # Then it is saved
    assert reply.status == 200, reply.body
    assert [r["detector_class"] for r in _mapping_rows(project)] == ["car"]


def _two_pages(ports: Container, project: str) -> str:
    s3 = boto3.client("s3")
    for i in range(3):
        s3.put_object(Bucket=ports.settings.data_bucket, Key=f"acme/c/{i}.jpg", Body=b"img")
    harness.connect_dataset(InProcessApi("acme"), project, ports.settings.data_bucket, "acme/c/")
    page = call("GET", f"/projects/{project}/tasks", "acme", query={"limit": "1"}).body
    return str(page["cursor"])


def test_cursors_work_only_where_they_were_issued(ports: Container, project: str) -> None:
    # Given a cursor of acme's project, and a second project of acme
    cursor = _two_pages(ports, project)
    other = call("POST", "/projects", "acme", {"name": "Q", "label_config": CONFIG}).body[
        "project_id"
    ]
    source, _, mac = cursor.split(".")
    edited = f"{source}.{base64.urlsafe_b64encode(b't_0').decode().rstrip('=')}.{mac}"
    garbled = [
        cursor[:-2],
        cursor + "A",
        "not-a-cursor",
        "bm90LWEtY3Vyc29y",
        edited,
        "a.b.c",
        "\u00e9.x",
    ]
    # When the cursor is used where it was issued; Then the next page comes
    assert (
        call(
            "GET", f"/projects/{project}/tasks", "acme", query={"limit": "1", "cursor": cursor}
        ).status
        == 200
    )
    # When it is replayed on the other project, or garbled, or edited
    for bad in [*garbled]:
        reply = call("GET", f"/projects/{project}/tasks", "acme", query={"cursor": bad})
        # Then 400 names the cursor: it never reaches DynamoDB as a start key
        assert reply.status == 400, (bad, reply.body)
        assert reply.body["field"] == "cursor"
    replayed = call("GET", f"/projects/{other}/tasks", "acme", query={"cursor": cursor})
    assert replayed.status == 400 and replayed.body["field"] == "cursor"
    # And a cursor of the whole list does not position a filtered one (another stored list)
    switched = call(
        "GET", f"/projects/{project}/tasks", "acme", query={"cursor": cursor, "state": "BACKLOG"}
    )
    assert switched.status == 400 and switched.body["field"] == "cursor"


def _routes() -> list[tuple[str, str]]:
    return sorted((r.method, r.openapi_path) for r in app._static_routes + app._dynamic_routes)


@pytest.mark.parametrize(("method", "path"), _routes())
def test_an_organization_that_is_not_set_up_can_only_learn_that(
    ports: Container, project: str, method: str, path: str
) -> None:
    # Given a verified token whose organization no operator has set up
    filled = (
        path.replace("{project_id}", project)
        .replace("{dataset_id}", "ds_x")
        .replace("{task_id}", "t_x")
    )
    body = (
        {"name": "x", "label_config": CONFIG} if (method, path) == ("POST", "/projects") else None
    )
    # When it calls the route (with acme's project id, even)
    reply = call(method, filled, "ghost-org", body)
    # Then 403 "organization is not set up", and nothing was created for it
    assert reply.status == 403, reply.body
    assert reply.body == {
        "code": "FORBIDDEN",
        "message": "organization is not set up",
        "field": None,
    }
    assert ports.projects.list_projects("ghost-org") == []


def test_unknown_routes_answer_in_the_error_shape(project: str) -> None:
    # When a path or method the API does not have is called
    for method, path in [
        ("GET", "/nothing"),
        ("PATCH", f"/projects/{project}"),
        ("GET", "/projects//tasks"),
    ]:
        reply = call(method, path, "acme")
        # Then 404 in the one error shape
        assert reply.status == 404, (method, path)
        assert set(reply.body) == ERROR_KEYS and reply.body["code"] == "NOT_FOUND"


def test_ids_that_no_object_can_have_are_refused_before_storage(project: str) -> None:
    # When an id longer than any key, or with characters no id has, is sent in a path
    for bad in ["x" * 2000, "a%00b", "ä"]:
        reply = call("GET", f"/projects/{bad}", "acme")
        # Then 422 names the path parameter (no storage error, no 5xx), without echoing it whole
        assert reply.status == 422, (bad, reply.body)
        assert reply.body["field"] == "project_id" and len(reply.message) < 300
