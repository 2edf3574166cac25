"""Every job on a large project on the local stack: the real jobs ASL in moto's Step Functions,
the real handlers, DynamoDB Local and moto's S3. One project serves the module, in order: an
import of 8 folders in parallel slices one of which crashes mid-step and resumes, a move of
every task (a slice per shard), an export (in slices, spliced in S3), a manifest import with
keys outside the locations, a reconnect, a disconnect (a slice per shard).

The size is PRELABEL_SCALE_TASKS: 5,000 by default (CI, `make test`), 20,000 with `make slow`.
The step limits shrink with it, so each job takes as many steps and slices at either size;
4 slices run at once. Figures (time, requests per task) are for benchmarks/scale.py; these
tests check outcomes.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests

from prelabel.adapters.dynamodb.models import PrelabelModel, TaskModel
from prelabel.adapters.dynamodb.shards import read_layout
from prelabel.adapters.dynamodb.tasks import DynamoTaskRepository
from prelabel.container import Container, use_container
from prelabel.domain.entities import PrelabelState, ProjectRef, Task
from prelabel.domain.plans import Plan
from prelabel.services.jobs.context import StepLimits
from prelabel.settings import Settings
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi
from prelabel_local.template_resources import TABLE_SETTING, create_tables
from tests.local_aws import moto_env

pytestmark = pytest.mark.slow

ORG = "bigco"
FULL_SIZE = 20_000
IMAGES = int(os.environ.get("PRELABEL_SCALE_TASKS", "5000"))
FOLDERS = 8
# The defaults' steps at FULL_SIZE, scaled down with the project (StepLimits' defaults); a
# listing step of one page, so each folder's slice takes several steps.
_SCALE = IMAGES / FULL_SIZE
LIMITS = StepLimits(
    list_pages=1,
    page_keys=round(1000 * _SCALE),
    manifest_lines=round(10_000 * _SCALE),
    move_tasks=round(5_000 * _SCALE),
    delete_tasks=round(3_000 * _SCALE),
    export_progress_every=round(5_000 * _SCALE),
    slice_tasks=IMAGES // FOLDERS,
    export_slice_tasks=-(-IMAGES // FOLDERS),  # rounded up: FOLDERS slices at any size
    slices_at_once=4,
)
SLICE = LIMITS.list_pages * LIMITS.page_keys  # keys an import step lists
PREFIX = f"{ORG}/shots/"
CRASHING = "cam3"
# Not images: each is skipped and reported with its reason.
OTHERS = {"notes.txt": b"text", "logo.svg": b"<svg/>", "empty.jpg": b"", "folder/": b""}
LABELED = IMAGES // 10
BOXES = 5


def image_key(i: int) -> str:
    return f"{PREFIX}cam{i % FOLDERS}/{i:06d}.jpg"


class CrashingTasks(DynamoTaskRepository):
    """The second step of one folder's slice writes half of its tasks, then its Lambda dies;
    the other slices write meanwhile."""

    crashed_after: int | None = None

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._lock = threading.Lock()
        self.calls: dict[str, int] = {}

    def add_dataset_tasks(
        self, ref: ProjectRef, dataset_id: str, job_id: str, tasks: Sequence[Task]
    ) -> int:
        folder = tasks[0].image_key.rsplit("/", 2)[-2] if tasks else ""
        with self._lock:
            self.calls[folder] = self.calls.get(folder, 0) + 1
            crash = folder == CRASHING and self.calls[folder] == 2 and self.crashed_after is None
        if crash:
            self.crashed_after = super().add_dataset_tasks(
                ref, dataset_id, job_id, tasks[: len(tasks) // 2]
            )
            raise RuntimeError("the job step died mid-slice")
        return super().add_dataset_tasks(ref, dataset_id, job_id, tasks)


@dataclass
class Big:
    c: Container
    ref: ProjectRef
    bucket: str
    api: InProcessApi
    tasks: CrashingTasks
    state: dict[str, Any]

    @property
    def pid(self) -> str:
        return self.ref.project_id

    def counts(self) -> dict[str, int]:
        view: dict[str, int] = self.api.json("GET", f"/projects/{self.pid}/assistant")["counts"]
        return view

    def task_items(self, dataset_id: str | None = None) -> list[TaskModel]:
        """Every task item of the project, read from each of its shards' partitions."""
        items = [
            item
            for shard in read_layout(self.ref).stored()
            for item in TaskModel.query(
                shard.tasks_key, attributes_to_get=["task_id", "dataset_id", "image_key"]
            )
        ]
        return [t for t in items if dataset_id is None or t.dataset_id == dataset_id]

    def prelabel_items(self) -> int:
        return sum(
            PrelabelModel.count(shard.outcome_key(PrelabelState.DONE))
            for shard in read_layout(self.ref).stored()
        )


@pytest.fixture(scope="module")
def big(
    ddb_endpoint: str,
    moto_endpoint: str,
    template: dict[str, Any],
    jobs_state_machine_arn: str,
    model_validation_state_machine_arn: str,
) -> Iterator[Big]:
    """Tables, bucket and container of the module's own (the per-test ones are function-scoped),
    an organization, a project, and IMAGES images put straight into moto's S3."""
    # The session's moto, named again for the module (as the settings fixture does per test).
    mp = pytest.MonkeyPatch()
    for name, value in moto_env(moto_endpoint).items():
        mp.setenv(name, value)
    suffix = uuid.uuid4().hex[:8]
    names = {logical: f"{logical}-big-{suffix}" for logical in TABLE_SETTING}
    create_tables(boto3.client("dynamodb", endpoint_url=ddb_endpoint), template, names)
    bucket = f"big-{suffix}"
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=bucket)
    settings = Settings(
        **{TABLE_SETTING[logical]: name for logical, name in names.items()},
        data_bucket=bucket,
        # The API's container needs every setting it may use; no test here touches models.
        models_bucket=f"models-big-{suffix}",
        model_validation_state_machine_arn=model_validation_state_machine_arn,
        dynamodb_endpoint=ddb_endpoint,
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:not-deployed",
        jobs_state_machine_arn=jobs_state_machine_arn,
    )
    c = Container(settings)
    tasks = CrashingTasks(c.connection, settings.cursor_mac_key)
    c.override(tasks=tasks, step_limits=LIMITS)
    use_container(c)
    harness.seed_organization(c, ORG, plan=Plan.TEAM_PRO)
    api = InProcessApi(ORG)
    pid = harness.create_project(
        api, "Huge", [{"id": "veh", "name": "Vehicle", "geometry": "bbox"}]
    )
    harness.put_objects_in_process(
        bucket,
        [(image_key(i), b"\xff\xd8jpeg") for i in range(IMAGES)]
        + [(PREFIX + name, body) for name, body in OTHERS.items()],
    )
    yield Big(c, ProjectRef(ORG, pid), bucket, api, tasks, {})
    use_container(None)
    mp.undo()


def test_a_large_import_resumes_after_a_crash_without_duplicates(big: Big) -> None:
    # Given IMAGES images in 8 folders and 4 other objects under a prefix, and a step of one
    # folder's slice that dies after writing half of its tasks, other slices writing meanwhile
    # When the prefix is connected
    started = big.api.json(
        "POST", f"/projects/{big.pid}/datasets", {"bucket": big.bucket, "prefix": PREFIX}
    )
    # Then the answer is the dataset IMPORTING with its job; once the job ends it is READY
    assert started["status"] == "IMPORTING" and started["job"]["status"] == "RUNNING"
    dataset = harness.wait_for_dataset(big.api, big.pid, started["dataset_id"], timeout=600)
    assert big.tasks.crashed_after == SLICE // 2  # half of the crashed step's
    # And it was planned as a slice per folder (and one for the objects beside them)
    plan = big.c.jobs.plan(started["job"]["job_id"], 0)
    assert len(plan) == FOLDERS + 2
    assert dataset["status"] == "READY", dataset
    # And every image is exactly one task: the retried slice skipped what was written
    items = big.task_items()
    keys = [t.image_key for t in items]
    assert len(items) == IMAGES == len(set(keys))
    # And the dataset's task_count and the project's counters agree with the items
    assert dataset["task_count"] == IMAGES
    assert big.counts()["backlog"] == IMAGES == big.counts()["total"]
    # And the report counts the objects that are not images, with examples
    report = dataset["report"]
    assert (report["objects"], report["images"]) == (IMAGES + 3, IMAGES)
    assert {r: s["examples"] for r, s in report["skipped"].items()} == {
        "empty": [f"{PREFIX}empty.jpg"],
        "unsupported_type": [f"{PREFIX}logo.svg", f"{PREFIX}notes.txt"],
    }
    assert dataset["job"]["result"] == {
        "tasks": IMAGES,
        "objects": IMAGES + 3,
        "images": IMAGES,
        "skipped": 3,
    }
    big.state["dataset_id"] = dataset["dataset_id"]


def test_moving_all_tasks_is_a_job_that_counts_each_once(big: Big) -> None:
    # Given IMAGES BACKLOG tasks
    # When all are moved to WAITING
    reply = big.api.call(
        "POST", f"/projects/{big.pid}/tasks/move", {"from": "BACKLOG", "to": "WAITING", "all": True}
    )
    # Then the answer is the job, which ends having moved every task once
    assert reply.status == 202 and reply.body["progress"]["total"] == IMAGES
    job = harness.wait_for_job(big.api, big.pid, reply.body["job_id"], timeout=600)
    assert job["status"] == "SUCCEEDED" and job["result"] == {"moved": IMAGES}
    assert job["progress"]["done"] == IMAGES
    counts = big.counts()
    assert (counts["backlog"], counts["waiting"], counts["eligible"]) == (0, IMAGES, IMAGES)
    # And it ran a slice per shard of the project
    assert len(big.c.jobs.plan(job["job_id"], 0)) == 16
    # And a page of WAITING tasks is a page: 200 tasks and a cursor
    page = big.api.json(
        "GET", f"/projects/{big.pid}/tasks", query={"state": "WAITING", "limit": "200"}
    )
    assert len(page["tasks"]) == 200 and page["cursor"]


def test_an_export_of_every_task_is_a_file_behind_a_link(big: Big) -> None:
    # Given IMAGES WAITING tasks, a tenth of them pre-labeled with 5 boxes each
    ids = sorted(t.task_id for t in big.task_items())
    harness.plant_prelabels(big.ref, ids[:LABELED], BOXES)
    # When a COCO export is asked for and its job is followed to the link
    link = harness.export_link(big.api, big.pid, "coco", timeout=600)
    # Then the link downloads one document with every task once and every box
    doc = json.loads(requests.get(link["url"], timeout=120).content)
    assert len({i["prelabel_task_id"] for i in doc["images"]}) == len(doc["images"]) == IMAGES
    assert len(doc["annotations"]) == LABELED * BOXES
    # And it was written in slices of task ids (names, then the file), spliced in S3
    assert len(big.c.jobs.plan(link["job_id"], 1)) == FOLDERS
    assert link["summary"]["images"] == IMAGES
    assert link["summary"]["annotations"] == LABELED * BOXES


def test_a_manifest_import_skips_keys_outside_the_locations(big: Big) -> None:
    # Given a Ground Truth manifest (gzip) naming 30 of bigco's images, two of another
    # organization's, one climbing out of bigco's folder and one in an unknown bucket
    lines = [f'{{"source-ref": "s3://{big.bucket}/{image_key(i)}"}}' for i in range(30)]
    lines += [
        f'{{"source-ref": "s3://{big.bucket}/other-org/a.jpg"}}',
        f'{{"source-ref": "s3://{big.bucket}/other-org/b.jpg"}}',
        f'{{"source-ref": "s3://{big.bucket}/{ORG}/../other-org/c.jpg"}}',
        '{"source-ref": "s3://somebody-elses-bucket/x.jpg"}',
    ]
    body = gzip.compress(("\n".join(lines) + "\n").encode())
    key = f"{ORG}/manifests/picked.manifest.gz"
    boto3.client("s3").upload_fileobj(io.BytesIO(body), big.bucket, key)
    # When it is connected as a manifest
    dataset = harness.connect_dataset(
        big.api, big.pid, big.bucket, manifest_key=key, manifest_format="ground_truth"
    )
    # Then its 30 images are tasks of their own, and the 4 others are skipped with the reason
    assert dataset["status"] == "READY" and dataset["task_count"] == 30
    outside = dataset["report"]["skipped"]["outside_locations"]
    assert outside["count"] == 4
    assert outside["examples"] == [
        "other-org/a.jpg",
        "other-org/b.jpg",
        f"{ORG}/../other-org/c.jpg",
        "x.jpg",
    ]
    assert big.counts()["total"] == IMAGES + 30
    big.state["manifest_dataset_id"] = dataset["dataset_id"]


def test_a_reconnect_replaces_every_task_and_pre_label(big: Big) -> None:
    # Given the imported dataset with its IMAGES WAITING tasks, a tenth pre-labeled
    dataset_id = big.state["dataset_id"]
    before = {t.image_key: t.task_id for t in big.task_items(dataset_id)}
    # When it is reconnected
    job = big.api.json("POST", f"/projects/{big.pid}/datasets/{dataset_id}/reconnect")
    dataset = harness.wait_for_dataset(big.api, big.pid, dataset_id, timeout=900)
    # Then it has IMAGES fresh BACKLOG tasks of the next generation, for the same images
    assert job["kind"] == "reconnect"
    assert dataset["status"] == "READY" and dataset["generation"] == 1
    assert dataset["task_count"] == IMAGES
    after = {t.image_key: t.task_id for t in big.task_items(dataset_id)}
    assert after.keys() == before.keys()
    assert not set(after.values()) & set(before.values())
    # And the old pre-labels went with the old tasks; the manifest's 30 tasks are untouched
    counts = big.counts()
    assert (counts["backlog"], counts["waiting"], counts["prelabeled"]) == (IMAGES + 30, 0, 0)
    assert big.prelabel_items() == 0


def test_a_disconnect_removes_the_tasks_then_the_dataset(big: Big) -> None:
    # Given the dataset of IMAGES tasks and the manifest's of 30
    dataset_id = big.state["dataset_id"]
    # When it is disconnected
    reply = big.api.call("DELETE", f"/projects/{big.pid}/datasets/{dataset_id}")
    assert reply.status == 202 and reply.body["progress"]["total"] == IMAGES
    # And the same request again while it runs (seconds, at this size) gets the same job
    again = big.api.call("DELETE", f"/projects/{big.pid}/datasets/{dataset_id}")
    assert again.status == 202 and again.body["job_id"] == reply.body["job_id"]
    job = harness.wait_for_job(big.api, big.pid, reply.body["job_id"], timeout=600)
    # Then every task of it is gone, and the dataset; the manifest's dataset stays
    assert job["status"] == "SUCCEEDED" and job["result"] == {"removed": IMAGES}
    datasets = big.api.json("GET", f"/projects/{big.pid}/datasets")
    assert [d["dataset_id"] for d in datasets] == [big.state["manifest_dataset_id"]]
    assert len(big.task_items()) == 30
    counts = big.counts()
    assert (counts["total"], counts["backlog"], counts["eligible"]) == (30, 30, 0)
