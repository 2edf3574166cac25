"""Every route, called by organization B on organization A's objects: 404, and nothing of A leaks;
and A's images (its folder, its grants) out of B's reach in every spelling."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
import requests

from prelabel.api.app import app
from prelabel.container import Container, use_container
from prelabel.domain.entities import ProjectRef
from prelabel_local import harness
from prelabel_local.export import fetch_export
from prelabel_local.http_events import InProcessApi
from tests.integration.core.api_client import Reply, call
from tests.integration.plant import plant_prelabel, plant_task

CONFIG = [{"id": "veh", "name": "SecretVehicle", "geometry": "bbox"}]
SECRET_MODEL = {
    "name": "SecretModel",
    "family": "yolox",
    "input_size": [416, 416],
    "classes": ["SecretClass", "other"],
}

# Each route with the body B sends; {p}, {d}, {t} are A's ids (or B's own project for {bp}).
MATRIX: dict[tuple[str, str], dict | None] = {
    ("GET", "/projects/{project_id}"): None,
    ("PUT", "/projects/{project_id}/label-config"): {"label_config": CONFIG},
    ("GET", "/projects/{project_id}/datasets"): None,
    ("POST", "/projects/{project_id}/datasets"): {"bucket": "{bucket}", "prefix": "org-a/a/"},
    ("GET", "/projects/{project_id}/datasets/{dataset_id}"): None,
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
    ("GET", "/projects/{project_id}/runs"): None,
    ("GET", "/projects/{project_id}/export"): None,
    ("GET", "/projects/{project_id}/jobs"): None,
    ("GET", "/projects/{project_id}/jobs/{job_id}"): None,
    ("POST", "/projects/{project_id}/reshard"): None,
    ("POST", "/projects/{project_id}/reviewed-labels/uploads"): {"file_name": "review.json"},
    ("POST", "/projects/{project_id}/reviewed-labels"): {"key": "org-b/reviewed/review.json"},
    ("POST", "/projects/{project_id}/quality"): {"by_run": True},
    ("GET", "/projects/{project_id}/quality"): None,
    ("GET", "/projects/{project_id}/detector"): None,
    ("PUT", "/projects/{project_id}/detector"): {"model_id": "builtin:coco80"},
    ("GET", "/models/{model_id}"): None,
    ("DELETE", "/models/{model_id}"): None,
    ("POST", "/models/{model_id}/uploads"): None,
    ("POST", "/models/{model_id}/versions"): {"upload_id": "{upload_id}"},
    ("POST", "/projects/{project_id}/review-sample"): {"format": "cvat", "seed": 1},
    ("GET", "/projects/{project_id}/review-sample/{job_id}"): None,
}
ORG_LEVEL = {
    ("GET", "/projects"),
    ("POST", "/projects"),
    ("GET", "/models"),
    ("POST", "/models"),
    ("GET", "/detector-classes"),
    ("GET", "/limit"),
}


def _registered_routes() -> set[tuple[str, str]]:
    return {(r.method, r.openapi_path) for r in app._static_routes + app._dynamic_routes}


@pytest.fixture
def a_world(ports: Container, make_org) -> dict[str, str]:
    make_org("org-a")
    make_org("org-b")
    bucket = ports.settings.data_bucket
    s3 = boto3.client("s3")
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"org-a/a/{i}.jpg", Body=b"img")
    pid = call(
        "POST", "/projects", "org-a", {"name": "Secret Streets", "label_config": CONFIG}
    ).body["project_id"]
    ds = harness.connect_dataset(InProcessApi("org-a"), pid, bucket, "org-a/a/")
    call(
        "PUT",
        f"/projects/{pid}/mapping",
        "org-a",
        {"rows": [{"detector_class": "car", "entry_id": "veh"}]},
    )
    tid = call("GET", f"/projects/{pid}/tasks", "org-a").body["tasks"][0]["task_id"]
    model = call("POST", "/models", "org-a", SECRET_MODEL).body
    b_config = [{"id": "b", "name": "B box", "geometry": "bbox"}]
    bpid = call("POST", "/projects", "org-b", {"name": "B's", "label_config": b_config}).body[
        "project_id"
    ]
    return {
        "project_id": pid,
        "dataset_id": ds["dataset_id"],
        "task_id": tid,
        "job_id": ds["job_id"],
        "bucket": bucket,
        "b_project": bpid,
        "model_id": model["model"]["model_id"],
        "upload_id": model["upload"]["upload_id"],
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
        ids["job_id"],
        ids["upload_id"],
        "Secret Streets",
        "SecretVehicle",
        "SecretModel",
        "SecretClass",
    ]
    return [s for s in secrets if s in text]


def test_matrix_covers_every_registered_route() -> None:
    # Given the routes the resolver registers; Then each is in the matrix or is org-level
    assert _registered_routes() == set(MATRIX) | ORG_LEVEL


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_other_org_gets_404_and_no_data(
    a_world: dict[str, str], ports: Container, method: str, path: str
) -> None:
    # Given A's project, dataset, task and mapping
    body = MATRIX[(method, path)]
    if body and body.get("bucket") == "{bucket}":
        body = {**body, "bucket": a_world["bucket"]}
    if body and body.get("upload_id") == "{upload_id}":
        body = {**body, "upload_id": a_world["upload_id"]}
    before = call("GET", f"/projects/{a_world['project_id']}/tasks", "org-a").body
    model_before = call("GET", f"/models/{a_world['model_id']}", "org-a").body
    # When B calls the route with A's ids
    reply = call(method, _fill(path, a_world), "org-b", body)
    # Then B gets 404, indistinguishable from an absent id, and nothing of A's leaks
    absent_ids = {**a_world, "project_id": "prj_absent", "model_id": "mdl_absent"}
    absent = call(method, _fill(path, absent_ids), "org-b", body)
    assert reply.status == 404, (method, path, reply.body)
    seen_as_absent = (
        json.dumps(absent.body)
        .replace("prj_absent", a_world["project_id"])
        .replace("mdl_absent", a_world["model_id"])
    )
    assert reply.body == json.loads(seen_as_absent)
    assert set(_leaks(reply, a_world)) <= {a_world["project_id"], a_world["model_id"]}
    # And A's objects are unchanged
    after = call("GET", f"/projects/{a_world['project_id']}/tasks", "org-a").body
    assert after == before
    assert call("GET", f"/models/{a_world['model_id']}", "org-a").body == model_before
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
        ("GET", "/projects/{b_project}/datasets/{dataset_id}"),
        ("DELETE", "/projects/{b_project}/datasets/{dataset_id}"),
        ("POST", "/projects/{b_project}/datasets/{dataset_id}/reconnect"),
        ("GET", "/projects/{b_project}/jobs/{job_id}"),
        ("GET", "/projects/{b_project}/export?job_id={job_id}"),
        ("GET", "/projects/{b_project}/review-sample/{job_id}"),
    ],
)
def test_other_org_cannot_reach_a_objects_through_its_own_project(
    a_world: dict[str, str], method: str, path: str
) -> None:
    # Given B's own project; When B names A's dataset, task or job under it
    route, _, query = _fill(path, a_world).partition("?")
    params = dict([query.split("=", 1)]) if query else None
    reply = call(method, route, "org-b", query=params)
    # Then 404 and no data of A
    assert reply.status == 404, reply.body
    assert _leaks(reply, a_world) in (
        [],
        [a_world["dataset_id"]],
        [a_world["task_id"]],
        [a_world["job_id"]],
    )
    # And A's dataset is as it was
    ds = call("GET", f"/projects/{a_world['project_id']}/datasets/{a_world['dataset_id']}", "org-a")
    assert ds.body["status"] == "READY" and ds.body["task_count"] == 3


def test_org_level_routes_show_only_the_callers_own_data(a_world: dict[str, str]) -> None:
    # When B lists projects and models and reads its limit
    projects = call("GET", "/projects", "org-b")
    limit = call("GET", "/limit", "org-b")
    models = call("GET", "/models", "org-b")
    # Then B sees only its own project and the built-in detectors, and nothing of A appears
    assert [p["project_id"] for p in projects.body] == [a_world["b_project"]]
    assert [m["model_id"] for m in models.body["models"]] == ["builtin:coco80"]
    assert _leaks(projects, a_world) == [] and _leaks(limit, a_world) == []
    assert _leaks(models, a_world) == []
    # And a project B creates cannot be placed in A's organization by the body
    forged = call(
        "POST", "/projects", "org-b", {"name": "x", "label_config": CONFIG, "org_id": "org-a"}
    )
    assert forged.status == 422


def test_b_cannot_pick_a_model_of_a_for_its_own_project(a_world: dict[str, str]) -> None:
    # Given A's model; When B's own project picks it by its id
    b = a_world["b_project"]
    reply = call("PUT", f"/projects/{b}/detector", "org-b", {"model_id": a_world["model_id"]})
    # Then 404 as for an absent model, and B's project keeps the built-in
    assert reply.status == 404 and reply.message == f"model {a_world['model_id']!r} not found"
    assert call("GET", f"/projects/{b}/detector", "org-b").body["builtin"] is True
    assert call("GET", f"/models/{a_world['model_id']}", "org-a").body["used_by"] == []


# Data locations: what B may connect, sign and export, whatever A holds and however it is spelled

SHARED = "shared-datasets"
# Each spelling names A's folder (or the whole bucket, or a neighbour) to S3 or to whoever
# decodes or normalizes it later; B must not get a dataset from any of them.
A_FOLDER_SPELLINGS = [
    "org-a/a/",
    "org-a/",
    "org-a",
    "",
    "org-b/../org-a/a/",
    "org-b/./../org-a/",
    "org-b//../org-a/",
    "/org-a/a/",
    "./org-a/a/",
    "org-b/%2e%2e/org-a/a/",
    "org-b/%2E%2E/org-a/a/",
    "org-b%2f..%2forg-a/",
    "org-b/%252e%252e/org-a/",
    "org-b\\..\\org-a\\a\\",
    "org-b/\uff0e\uff0e/org-a/",
    "org-b\uff0f..\uff0forg-a/",
    "org-b/\x00/../org-a/",
    "org-b",  # no boundary: would list org-b-x/ and others too
]


@pytest.fixture
def grants(ports: Container, a_world: dict[str, str]) -> Container:
    """A dataset bucket besides the data bucket, with A's images under team/, granted to A."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=SHARED)
    for i in range(2):
        s3.put_object(Bucket=SHARED, Key=f"team/{i}.jpg", Body=b"img")
        s3.put_object(Bucket=SHARED, Key=f"team-x/{i}.jpg", Body=b"img")
    settings = ports.settings.model_copy(
        update={"dataset_buckets": (ports.settings.data_bucket, SHARED)}
    )
    with_grants = Container(settings)
    use_container(with_grants)
    with_grants.locations.grant("org-a", SHARED, "team/")
    return with_grants


def _b_has_nothing(ids: dict[str, str]) -> None:
    b = ids["b_project"]
    assert call("GET", f"/projects/{b}/datasets", "org-b").body == []
    assert call("GET", f"/projects/{b}/tasks", "org-b").body["tasks"] == []


def _same_answer(reply: Reply, other: Reply) -> bool:
    """Equal once A's folder name in the reply reads as the absent folder's."""
    text = json.dumps(reply.body).replace("org-a", "org-q")
    return reply.status == other.status and text == json.dumps(other.body)


@pytest.mark.parametrize("prefix", A_FOLDER_SPELLINGS)
def test_b_cannot_connect_a_folder_in_any_spelling(a_world: dict[str, str], prefix: str) -> None:
    # Given A's images under org-a/a/ of the data bucket, and B's own project
    bucket, b = a_world["bucket"], a_world["b_project"]
    # When B connects A's folder, spelled some way, to its own project
    reply = call("POST", f"/projects/{b}/datasets", "org-b", {"bucket": bucket, "prefix": prefix})
    # Then it is refused (400 for an ambiguous spelling, 403 for a location that is not B's),
    # in the one error shape, naming nothing of A's
    assert reply.status in (400, 403), (prefix, reply.body)
    assert set(reply.body) == {"code", "message", "field"}
    assert _leaks(reply, a_world) == []
    # And the answer is the one a location holding nothing would get: no oracle
    absent = prefix.replace("org-a", "org-q") if "org-a" in prefix else None
    if absent is not None:
        empty = call(
            "POST", f"/projects/{b}/datasets", "org-b", {"bucket": bucket, "prefix": absent}
        )
        assert _same_answer(reply, empty), (reply.body, empty.body)
    # And B holds no dataset and no task
    _b_has_nothing(a_world)


@pytest.mark.parametrize(
    ("bucket", "prefix"),
    [
        (SHARED, "team/"),
        (SHARED, "team"),
        (SHARED, ""),
        (SHARED, "team/0.jpg"),
        (SHARED, "nothing/"),
    ],
)
def test_b_cannot_use_a_grant_of_a(
    grants: Container, a_world: dict[str, str], bucket: str, prefix: str
) -> None:
    # Given A's grant of team/ in a shared dataset bucket
    b = a_world["b_project"]
    # When B connects the granted root (or the bucket, or a place nobody holds)
    reply = call("POST", f"/projects/{b}/datasets", "org-b", {"bucket": bucket, "prefix": prefix})
    # Then 403 with the same words as for any place B does not hold
    assert reply.status == 403, reply.body
    assert (
        reply.message == f"s3://{bucket}/{prefix} is not one of this organization's data locations"
    )
    _b_has_nothing(a_world)


def test_a_grant_works_for_its_holder_within_its_boundary(
    grants: Container, a_world: dict[str, str]
) -> None:
    # Given A's grant of team/ (and a neighbouring team-x/ with images)
    a = a_world["project_id"]
    # When A connects team/ and then team-x/
    ok = harness.connect_dataset(InProcessApi("org-a"), a, SHARED, "team/")
    neighbour = call(
        "POST", f"/projects/{a}/datasets", "org-a", {"bucket": SHARED, "prefix": "team-x/"}
    )
    # Then team/ gives its two images, and team-x/ is not part of the grant
    assert ok["status"] == "READY" and ok["task_count"] == 2, ok
    assert neighbour.status == 403
    # When the operator revokes the grant, A's dataset can no longer be reconnected or signed
    grants.locations.revoke("org-a", SHARED, "team/")
    again = call("POST", f"/projects/{a}/datasets/{ok['dataset_id']}/reconnect", "org-a")
    assert again.status == 403
    tasks = call(
        "GET", f"/projects/{a}/tasks", "org-a", query={"dataset_id": ok["dataset_id"]}
    ).body["tasks"]
    assert len(tasks) == 2
    image = call("GET", f"/projects/{a}/tasks/{tasks[0]['task_id']}/image", "org-a")
    assert image.status == 403
    # And its images are left out of the export
    export = fetch_export("org-a", a, "coco")
    assert export.status == 200 and b"team/" not in export.content


@pytest.fixture
def planted(a_world: dict[str, str]) -> dict[str, str]:
    """A task in B's project whose key is A's image: written straight into DynamoDB, as a bug or
    an attacker with table access might leave it."""
    b = a_world["b_project"]
    plant_task(
        ProjectRef("org-b", b),
        "t_planted",
        bucket=a_world["bucket"],
        image_key="org-a/a/0.jpg",
        dataset_id="ds_planted",
    )
    plant_prelabel(ProjectRef("org-b", b), "t_planted", size=(4, 4))
    return {**a_world, "planted": "t_planted"}


def test_a_planted_key_outside_the_locations_is_never_signed_or_exported(
    planted: dict[str, str],
) -> None:
    # Given B's task pointing at A's image
    b = planted["b_project"]
    # When B asks for the image URL
    image = call("GET", f"/projects/{b}/tasks/t_planted/image", "org-b")
    # Then 403, and no URL
    assert image.status == 403, image.body
    assert "url" not in image.body and "X-Amz" not in json.dumps(image.body)
    # When B exports the project in any format
    for fmt in ("coco", "yolo", "voc"):
        export = fetch_export("org-b", b, fmt)
        # Then A's key is in no file of it
        assert export.status == 200, export.error_message()
        if fmt == "coco":
            files = [export.content]
        else:
            archive = zipfile.ZipFile(io.BytesIO(export.content))
            files = [archive.read(n) for n in archive.namelist()] + [
                n.encode() for n in archive.namelist()
            ]
        assert files and not any(b"org-a" in f or b"0.jpg" in f for f in files), fmt


def test_image_urls_are_sigv4_for_five_minutes_and_fetch_the_image(
    ports: Container, a_world: dict[str, str]
) -> None:
    # Given A's task
    a, t = a_world["project_id"], a_world["task_id"]
    # When A asks for its image URL
    reply = call("GET", f"/projects/{a}/tasks/{t}/image", "org-a")
    # Then it is a SigV4 presigned URL valid for 300 seconds, and it downloads the object
    assert reply.status == 200, reply.body
    url = reply.body["url"]
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "X-Amz-Expires=300" in url
    assert "AWSAccessKeyId=" not in url and reply.body["expires_in"] == 300
    assert requests.get(url, timeout=10).content == b"img"
