"""The HTTP API end to end through the real handler, DynamoDB Local and moto's S3."""

from __future__ import annotations

import boto3
import pytest

from prelabel.container import Container
from prelabel.domain.plans import Plan
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi
from tests.integration.core.api_client import call

LABEL_CONFIG = [
    {"id": "veh", "name": "Vehicle", "geometry": "bbox"},
    {"id": "per", "name": "Person", "geometry": "bbox"},
    {"id": "road", "name": "Road", "geometry": "polygon"},
]


def _put_images(bucket: str, prefix: str, n: int) -> None:
    s3 = boto3.client("s3")
    for i in range(n):
        s3.put_object(Bucket=bucket, Key=f"{prefix}img{i:03d}.jpg", Body=b"\xff\xd8fake")
    s3.put_object(Bucket=bucket, Key=f"{prefix}notes.txt", Body=b"not an image")


@pytest.fixture
def project(ports: Container, make_org) -> str:
    make_org("acme")
    reply = call("POST", "/projects", "acme", {"name": "Streets", "label_config": LABEL_CONFIG})
    assert reply.status == 201, reply.body
    return str(reply.body["project_id"])


def test_connect_move_list_and_reconnect(ports: Container, project: str) -> None:
    # Given 12 images (and one text file) under a prefix of acme's folder of the data bucket
    bucket = ports.settings.data_bucket
    _put_images(bucket, "acme/street/", 12)
    api = InProcessApi("acme")
    # When the dataset is connected
    started = call(
        "POST",
        f"/projects/{project}/datasets",
        "acme",
        {"bucket": bucket, "prefix": "acme/street/"},
    )
    # Then the answer is at once: the dataset IMPORTING with its running import job
    assert started.status == 202, started.body
    assert started.body["status"] == "IMPORTING"
    assert started.body["job"]["kind"] == "import" and started.body["job"]["status"] == "RUNNING"
    # And once imported, 12 BACKLOG tasks exist and the text file is reported as skipped
    ds = harness.wait_for_dataset(api, project, started.body["dataset_id"])
    assert ds["status"] == "READY" and ds["task_count"] == 12
    assert ds["report"]["images"] == 12
    assert ds["report"]["skipped"]["unsupported_type"]["examples"] == ["acme/street/notes.txt"]
    page = call(
        "GET", f"/projects/{project}/tasks", "acme", query={"state": "BACKLOG", "limit": "200"}
    )
    assert len(page.body["tasks"]) == 12
    ids = [t["task_id"] for t in page.body["tasks"]]
    # When 5 are moved to WAITING by id
    moved = call(
        "POST",
        f"/projects/{project}/tasks/move",
        "acme",
        {"from": "BACKLOG", "to": "WAITING", "task_ids": ids[:5]},
    )
    # Then 5 are WAITING and the assistant view counts them as eligible
    assert moved.status == 200 and moved.body["moved"] == 5
    waiting = call("GET", f"/projects/{project}/tasks", "acme", query={"state": "WAITING"})
    assert sorted(t["task_id"] for t in waiting.body["tasks"]) == sorted(ids[:5])
    view = call("GET", f"/projects/{project}/assistant", "acme")
    assert view.body["eligible_tasks"] == 5
    assert view.body["counts"] == {
        "backlog": 7,
        "waiting": 5,
        "in_progress": 0,
        "completed": 0,
        "skipped": 0,
        "total": 12,
        "eligible": 5,
        "prelabeled": 0,
        "failed": 0,
    }
    # When all BACKLOG tasks are moved (a job), then 12 are WAITING
    job = call(
        "POST",
        f"/projects/{project}/tasks/move",
        "acme",
        {"from": "BACKLOG", "to": "WAITING", "all": True},
    )
    assert job.status == 202 and job.body["kind"] == "move"
    assert harness.wait_for_job(api, project, job.body["job_id"])["result"] == {"moved": 7}
    assert call("GET", f"/projects/{project}/assistant", "acme").body["eligible_tasks"] == 12
    # When reconnected, the tasks are fresh (BACKLOG again, new ids)
    again = call("POST", f"/projects/{project}/datasets/{ds['dataset_id']}/reconnect", "acme")
    assert again.status == 202 and again.body["kind"] == "reconnect"
    ds = harness.wait_for_dataset(api, project, ds["dataset_id"])
    assert ds["status"] == "READY" and ds["task_count"] == 12 and ds["generation"] == 1
    fresh = call("GET", f"/projects/{project}/tasks", "acme", query={"limit": "200"}).body["tasks"]
    assert {t["state"] for t in fresh} == {"BACKLOG"}
    assert not {t["task_id"] for t in fresh} & set(ids)
    # When disconnected, no task is left, and the dataset is gone
    gone = call("DELETE", f"/projects/{project}/datasets/{ds['dataset_id']}", "acme")
    assert gone.status == 202 and gone.body["kind"] == "disconnect"
    ended = harness.wait_for_job(api, project, gone.body["job_id"])
    assert ended["status"] == "SUCCEEDED" and ended["result"] == {"removed": 12}
    assert call("GET", f"/projects/{project}/tasks", "acme").body["tasks"] == []
    assert call("GET", f"/projects/{project}/datasets", "acme").body == []
    assert call("GET", f"/projects/{project}/assistant", "acme").body["counts"]["total"] == 0


def test_task_pages_follow_the_cursor(ports: Container, project: str) -> None:
    # Given 7 tasks
    _put_images(ports.settings.data_bucket, "acme/p/", 7)
    harness.connect_dataset(InProcessApi("acme"), project, ports.settings.data_bucket, "acme/p/")
    # When reading pages of 3
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        query = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        page = call("GET", f"/projects/{project}/tasks", "acme", query=query).body
        seen += [t["task_id"] for t in page["tasks"]]
        cursor = page["cursor"]
        if not cursor:
            break
    # Then every task is seen exactly once
    assert len(seen) == 7 == len(set(seen))
    # And a forged cursor is a 400 naming the field
    bad = call("GET", f"/projects/{project}/tasks", "acme", query={"cursor": "bm90LWEtY3Vyc29y"})
    assert bad.status == 400 and "cursor" in bad.message


def test_a_prefix_without_images_ends_failed_with_the_reason(
    ports: Container, project: str
) -> None:
    # Given a prefix holding only a text file
    boto3.client("s3").put_object(
        Bucket=ports.settings.data_bucket, Key="acme/docs/readme.txt", Body=b"hello"
    )
    # When it is connected
    ds = harness.connect_dataset(
        InProcessApi("acme"), project, ports.settings.data_bucket, "acme/docs/"
    )
    # Then the import ends FAILED saying the prefix holds no images, with the skipped file
    assert ds["status"] == "FAILED" and ds["task_count"] == 0
    assert "acme/docs/ holds no images" in ds["failure"]
    assert ds["report"]["skipped"]["unsupported_type"]["count"] == 1
    assert ds["job"]["status"] == "FAILED"


def test_mapping_replace_and_assistant_view(ports: Container, project: str) -> None:
    # Given a project with Vehicle/Person boxes
    # When the mapping car, truck -> Vehicle (truck at 0.7) and person -> Person is saved
    reply = call(
        "PUT",
        f"/projects/{project}/mapping",
        "acme",
        {
            "rows": [
                {"detector_class": "car", "entry_id": "veh"},
                {"detector_class": "truck", "entry_id": "veh", "min_confidence": 0.7},
                {"detector_class": 0, "entry_id": "per"},
            ],
            "default_threshold": 0.4,
        },
    )
    # Then it reads back with names and effective thresholds
    assert reply.status == 200, reply.body
    rows = {
        r["detector_class"]: r
        for r in call("GET", f"/projects/{project}/mapping", "acme").body["rows"]
    }
    assert rows["car"]["effective_threshold"] == 0.4
    assert rows["truck"]["effective_threshold"] == 0.7
    assert rows["person"]["entry_name"] == "Person"
    # And the assistant view says start is possible except for the lack of tasks
    view = call("GET", f"/projects/{project}/assistant", "acme").body
    assert view["can_start"] is True
    assert view["limit"]["remaining"] == 10_000
    assert view["run"] is None
    assert call("GET", "/limit", "acme").body["remaining"] == 10_000
    classes = call("GET", "/detector-classes", "acme").body
    assert len(classes) == 80 and classes[2] == {"id": 2, "name": "car"}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (
            {"rows": [{"detector_class": "spaceship", "entry_id": "veh"}]},
            400,
            "rows[0].detector_class",
        ),
        ({"rows": [{"detector_class": 99, "entry_id": "veh"}]}, 400, "99"),
        ({"rows": [{"detector_class": "car", "entry_id": "ghost"}]}, 400, "'ghost'"),
        ({"rows": [{"detector_class": "car", "entry_id": "road"}]}, 400, "polygon"),
        (
            {
                "rows": [
                    {"detector_class": "car", "entry_id": "veh"},
                    {"detector_class": "car", "entry_id": "per"},
                ]
            },
            400,
            "already mapped",
        ),
        (
            {"rows": [{"detector_class": "car", "entry_id": "veh", "min_confidence": 1.2}]},
            422,
            "rows[0].min_confidence",
        ),
        ({"rows": [], "default_threshold": -0.5}, 422, "default_threshold"),
        ({"rows": [], "colour": "red"}, 422, "colour"),
        (None, 422, "body"),
    ],
)
def test_bad_mapping_is_refused_and_nothing_is_saved(
    ports: Container, project: str, body: object, status: int, words: str
) -> None:
    # Given a saved mapping car -> Vehicle
    call(
        "PUT",
        f"/projects/{project}/mapping",
        "acme",
        {"rows": [{"detector_class": "car", "entry_id": "veh"}]},
    )
    # When a bad mapping is sent
    reply = call("PUT", f"/projects/{project}/mapping", "acme", body)
    # Then it is refused with a message naming the field/value and the old mapping stands
    assert reply.status == status, reply.body
    assert words in reply.message, reply.message
    rows = call("GET", f"/projects/{project}/mapping", "acme").body["rows"]
    assert [r["detector_class"] for r in rows] == ["car"]


def test_project_without_bbox_entries_cannot_configure_prelabeling(
    ports: Container, make_org
) -> None:
    # Given a project whose only entry is a polygon
    make_org("poly")
    pid = call(
        "POST",
        "/projects",
        "poly",
        {"name": "Roads", "label_config": [{"id": "road", "name": "Road", "geometry": "polygon"}]},
    ).body["project_id"]
    # When any mapping is saved
    reply = call("PUT", f"/projects/{pid}/mapping", "poly", {"rows": []})
    # Then the API says there is no bbox entry
    assert reply.status == 400
    assert "no bbox entry" in reply.message


CONNECT = "/projects/{p}/datasets"
MOVE = "/projects/{p}/tasks/move"
BOX_A = {"id": "a", "name": "A", "geometry": "bbox"}


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        (CONNECT, {"prefix": "acme/a/", "manifest_key": "acme/m.jsonl"}, 400, "prefix"),
        (CONNECT, {"manifest_key": "acme/m.csv"}, 400, "manifest_format"),
        (CONNECT, {"manifest_key": "acme/m.csv", "manifest_format": "parquet"}, 422, "parquet"),
        (CONNECT, {"bucket": "someone-elses-bucket", "prefix": ""}, 403, "someone-elses-bucket"),
        (MOVE, {"from": "BACKLOG", "to": "WAITING", "task_ids": ["t_nope"]}, 404, "t_nope"),
        (MOVE, {"from": "BACKLOG", "to": "DONE", "all": True}, 422, "DONE"),
        (MOVE, {"from": "BACKLOG", "to": "WAITING"}, 400, "task_ids"),
        ("/projects", {"name": "", "label_config": []}, 422, "name"),
        ("/projects", {"name": "x", "label_config": [{**BOX_A, "geometry": "blob"}]}, 422, "blob"),
        ("/projects", {"name": "x", "label_config": [BOX_A, {**BOX_A, "name": "B"}]}, 400, "'a'"),
    ],
)
def test_bad_input_gets_a_4xx_naming_field_and_value(
    ports: Container, project: str, path: str, body: dict[str, object], status: int, words: str
) -> None:
    # Given a project; When a request with bad input is sent (a connect names the data bucket
    # unless the case names another)
    if path == CONNECT:
        body = {"bucket": ports.settings.data_bucket} | body
    reply = call("POST", path.replace("{p}", project), "acme", body)
    # Then the status and message say what is wrong
    assert reply.status == status, reply.body
    assert words in reply.message


def test_oversized_empty_and_unauthenticated_requests(ports: Container, project: str) -> None:
    # Given a project
    # When the body is over the cap
    big = call("PUT", f"/projects/{project}/mapping", "acme", raw_body="x" * (65 * 1024))
    # Then 413 names the size
    assert big.status == 413 and "66560 bytes" in big.message
    # When the body is not JSON
    garbled = call("PUT", f"/projects/{project}/mapping", "acme", raw_body="{nope")
    assert garbled.status in (400, 422)
    # When there is no verified token, or it names no organization
    assert call("GET", "/projects", None).status == 401
    assert call("GET", f"/projects/{project}", "").status == 401


def test_org_on_free_plan_sees_why_start_is_impossible(ports: Container, make_org) -> None:
    # Given an organization on FREE (limit 0)
    make_org("cheap", Plan.FREE)
    pid = call("POST", "/projects", "cheap", {"name": "P", "label_config": LABEL_CONFIG}).body[
        "project_id"
    ]
    call(
        "PUT",
        f"/projects/{pid}/mapping",
        "cheap",
        {"rows": [{"detector_class": "car", "entry_id": "veh"}]},
    )
    # When reading the assistant view
    view = call("GET", f"/projects/{pid}/assistant", "cheap").body
    # Then start is impossible for the plan and the empty limit
    assert view["can_start"] is False
    assert any("TEAM_PRO" in r for r in view["start_blockers"])
    assert any("0 remaining" in r for r in view["start_blockers"])
