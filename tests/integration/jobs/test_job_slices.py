"""Jobs in parallel slices on the local stack: the real jobs ASL in moto's Step Functions (its
Distributed Map running slices at once), the real handlers, DynamoDB Local and moto's S3.

Slices of one job meet on the items they share (the dataset's task_count, which every slice of
an import or a disconnect changes in its transactions): two made to write at the same moment
still count every task once. An execution near an (artificially small) history quota hands over
to a fresh one, whose ARN the job's item then holds. A large export written in slices, spliced
from their parts in S3, holds what the same export written in one step holds.
"""

from __future__ import annotations

import dataclasses
import io
import json
import threading
import zipfile
from collections.abc import Sequence
from typing import Any

import boto3
import pytest
import requests

from prelabel.adapters.dynamodb.tasks import DynamoTaskRepository
from prelabel.container import Container
from prelabel.domain.entities import ProjectRef, Task
from prelabel.domain.plans import Plan
from prelabel.services.jobs.context import StepLimits
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi

ORG = "sliceco"
FOLDERS = 4
PER_FOLDER = 150
IMAGES = FOLDERS * PER_FOLDER
LIMITS = StepLimits(
    list_pages=1,
    page_keys=50,
    move_tasks=40,
    delete_tasks=30,
    slice_tasks=100,
    export_slice_tasks=100,
    slices_at_once=3,
)


class MeetingTasks(DynamoTaskRepository):
    """The first writes of two different slices wait for each other, then go at once: both
    change the dataset's task_count in the same moment."""

    def __init__(self, c: Container) -> None:
        super().__init__(c.connection, c.settings.cursor_mac_key, c.layouts)
        self.barrier = threading.Barrier(2, timeout=60)
        self.met: list[str] = []
        self._lock = threading.Lock()

    def _meet(self, who: str) -> None:
        with self._lock:
            first = who not in self.met and len(self.met) < 2
            if first:
                self.met.append(who)
        if first:
            self.barrier.wait()

    def add_dataset_tasks(
        self, ref: ProjectRef, dataset_id: str, job_id: str, tasks: Sequence[Task]
    ) -> int:
        if tasks:
            self._meet(tasks[0].image_key.rsplit("/", 1)[0])
        return super().add_dataset_tasks(ref, dataset_id, job_id, tasks)

    def delete_dataset_tasks(
        self,
        ref: ProjectRef,
        dataset_id: str,
        job_id: str,
        limit: int,
        part: int | None = None,
        slice: tuple[int, int] | None = None,
    ) -> Any:
        self._meet(f"part {part}")
        return super().delete_dataset_tasks(ref, dataset_id, job_id, limit, part, slice)


@dataclasses.dataclass
class Stack:
    c: Container
    api: InProcessApi
    pid: str
    bucket: str
    tasks: MeetingTasks

    @property
    def ref(self) -> ProjectRef:
        return ProjectRef(ORG, self.pid)

    def counts(self) -> dict[str, int]:
        view: dict[str, int] = self.api.json("GET", f"/projects/{self.pid}/assistant")["counts"]
        return view

    def connect(self, prefix: str) -> dict[str, Any]:
        started = self.api.json(
            "POST", f"/projects/{self.pid}/datasets", {"bucket": self.bucket, "prefix": prefix}
        )
        return harness.wait_for_dataset(self.api, self.pid, started["dataset_id"], timeout=600)


@pytest.fixture
def stack(ports: Container) -> Stack:
    tasks = MeetingTasks(ports)
    ports.override(tasks=tasks, step_limits=LIMITS)
    harness.seed_organization(ports, ORG, plan=Plan.TEAM_PRO)
    api = InProcessApi(ORG)
    pid = harness.create_project(
        api, "Sliced", [{"id": "veh", "name": "Vehicle", "geometry": "bbox"}]
    )
    bucket = str(ports.settings.data_bucket)
    harness.put_objects_in_process(
        bucket,
        [
            (f"{ORG}/cams/cam{f}/{i:04d}.jpg", b"\xff\xd8jpeg")
            for f in range(FOLDERS)
            for i in range(PER_FOLDER)
        ],
    )
    return Stack(ports, api, pid, bucket, tasks)


def _limits(c: Container, limits: StepLimits) -> None:
    """The step limits of the jobs' steps from now on (the runner is made once per process)."""
    c.job_runner.context.limits = limits


def _job(stack: Stack, job_id: str) -> dict[str, Any]:
    return harness.wait_for_job(stack.api, stack.pid, job_id, timeout=600)


def test_slices_writing_at_the_same_moment_count_every_task_once(stack: Stack) -> None:
    # Given 600 images in 4 folders (an import of 4 slices, 3 at once), whose first writes of
    # two slices are made to go at the same moment
    # When the prefix is connected
    dataset = stack.connect(f"{ORG}/cams/")
    # Then two slices met, and still every image is one task, counted once in the dataset,
    # the project's counters and the job's progress (objects listed)
    assert len(stack.tasks.met) == 2
    assert dataset["status"] == "READY" and dataset["task_count"] == IMAGES
    assert stack.counts()["backlog"] == IMAGES == stack.counts()["total"]
    job = dataset["job"]
    assert job["result"]["tasks"] == IMAGES and job["progress"]["done"] == IMAGES
    # When it is disconnected: a slice per shard, two of whose first deletions meet
    stack.tasks.met.clear()
    stack.tasks.barrier = threading.Barrier(2, timeout=60)
    reply = stack.api.call("DELETE", f"/projects/{stack.pid}/datasets/{dataset['dataset_id']}")
    ended = _job(stack, reply.body["job_id"])
    # Then every task went once: the job's figure, its progress and the counters agree
    assert len(stack.tasks.met) == 2
    assert ended["status"] == "SUCCEEDED" and ended["result"] == {"removed": IMAGES}
    assert ended["progress"]["done"] == IMAGES
    assert stack.counts()["total"] == 0


def test_a_job_near_the_history_quota_continues_in_fresh_executions(
    stack: Stack, ports: Container
) -> None:
    # Given a history quota of two steps' events: slices' executions hand their slice back
    # after two steps, the job's executions hand over at their third step
    _limits(ports, dataclasses.replace(LIMITS, history_events=14))
    # When the prefix is connected (4 slices of 3 or 4 listing steps each)
    dataset = stack.connect(f"{ORG}/cams/")
    # Then the import went on through fresh executions of the job, each named after it, the
    # job's item naming the last, every earlier one ended by handing over
    assert dataset["status"] == "READY" and dataset["task_count"] == IMAGES
    job = dataset["job"]
    sfn = boto3.client("stepfunctions")
    last = sfn.describe_execution(
        executionArn=ports.jobs.get(stack.ref, job["job_id"]).execution_arn
    )
    assert last["name"].startswith(f"{job['job_id']}-") and last["status"] == "SUCCEEDED"
    handed = int(last["name"].rsplit("-", 1)[1])
    assert handed >= 2
    first_arn = ports.job_orchestrator.execution_arn(job["job_id"])  # type: ignore[attr-defined]
    first = sfn.get_execution_history(executionArn=first_arn)["events"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in first if "stateEnteredEventDetails" in e
    ]
    assert entered[-1] == "HandedOver"
    assert stack.counts()["total"] == IMAGES


def _file(link: dict[str, Any]) -> bytes:
    return requests.get(link["url"], timeout=120).content


def test_an_export_in_slices_holds_what_an_export_in_one_step_holds(
    stack: Stack, ports: Container
) -> None:
    # Given 600 tasks, a third pre-labeled with 2 boxes
    dataset = stack.connect(f"{ORG}/cams/")
    ids = sorted(t["task_id"] for t in harness.all_tasks(stack.api, stack.pid))
    harness.plant_prelabels(stack.ref, ids[::3], 2)
    assert dataset["task_count"] == IMAGES
    # When the project is exported to COCO and YOLO in one step, then in slices of 100
    _limits(ports, dataclasses.replace(LIMITS, export_slice_tasks=10_000))
    one = {
        f: _file(harness.export_link(stack.api, stack.pid, f, timeout=600))
        for f in ("coco", "yolo")
    }
    _limits(ports, LIMITS)
    sliced = {
        f: _file(harness.export_link(stack.api, stack.pid, f, timeout=600))
        for f in ("coco", "yolo")
    }
    # Then the COCO documents hold the same images, in the same order, and the same boxes
    a, b = json.loads(one["coco"]), json.loads(sliced["coco"])
    assert [i["prelabel_task_id"] for i in a["images"]] == [
        i["prelabel_task_id"] for i in b["images"]
    ]
    assert [i["file_name"] for i in a["images"]] == [i["file_name"] for i in b["images"]]
    boxes = [sorted((x["bbox"], x["score"]) for x in d["annotations"]) for d in (a, b)]
    assert boxes[0] == boxes[1] and len(boxes[0]) == 2 * len(ids[::3])
    # And the zips hold the same members, byte for byte (but the manifest's date)
    za, zb = (zipfile.ZipFile(io.BytesIO(x["yolo"])) for x in (one, sliced))
    assert zb.testzip() is None and za.namelist() == zb.namelist()
    for name in za.namelist():
        if name != "prelabel_export.json":
            assert za.read(name) == zb.read(name), name
    # And nothing of the slices' parts is left
    s3 = boto3.client("s3")
    left = s3.list_objects_v2(Bucket=stack.bucket, Prefix=f"jobs/{ORG}/").get("Contents", [])
    assert not [o["Key"] for o in left if "/parts/" in o["Key"]]
