"""Review samples on the local stack: the job through the jobs ASL in moto's Step Functions with
the real handlers and DynamoDB Local, a step that dies mid-pass, and the files a reviewer opens
(Label Studio's tasks checked by label-studio-sdk, CVAT's COCO by pycocotools)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import requests
from label_studio_sdk.label_interface.interface import LabelInterface
from pycocotools.coco import COCO

from prelabel.adapters.dynamodb.tasks import DynamoTaskRepository
from prelabel.container import Container
from prelabel.domain.entities import Box, Label, LabelingState, ProjectRef
from prelabel.ports.tasks import PrelabelClasses
from prelabel.services.jobs.context import StepLimits
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi
from tests.integration.plant import plant_prelabel

pytestmark = pytest.mark.integration

ORG = "revco"
CONFIG = [
    {"id": "veh", "name": "Vehicle", "geometry": "bbox"},
    {"id": "per", "name": "Person", "geometry": "bbox"},
    {"id": "dog", "name": "Dog", "geometry": "bbox"},
]
IMAGES = 40


class DyingPass(DynamoTaskRepository):
    """The pass's second slice dies once after reading (its Lambda crashed)."""

    calls = 0

    def prelabel_classes(self, ref: ProjectRef, after: str | None, limit: int) -> PrelabelClasses:
        part = super().prelabel_classes(ref, after, limit)
        DyingPass.calls += 1
        if DyingPass.calls == 2:
            raise RuntimeError("the job step died mid-pass")
        return part


def _label(entry: str, i: int) -> Label:
    name = {"veh": "Vehicle", "per": "Person"}[entry]
    cls = {"veh": "car", "per": "person"}[entry]
    return Label(f"l{i}", entry, name, Box(10, 10, 60, 50), cls, 0.31 + i / 100, "yolox", "1")


@pytest.fixture
def project(ports: Container) -> tuple[InProcessApi, str]:
    """40 pre-labeled images: each with a car, every fourth with a person; Dog is mapped but
    never found. The job reads 9 pre-labels a step, and its second step dies once."""
    DyingPass.calls = 0
    tasks = DyingPass(
        ports.connection, ports.settings.cursor_mac_key, ports.layouts, ports.settings.task_shards
    )
    ports.override(tasks=tasks, step_limits=StepLimits(sample_prelabels=9))
    harness.seed_organization(ports, ORG)
    api = InProcessApi(ORG)
    pid = harness.create_project(api, "Review", CONFIG)
    rows = [
        {"detector_class": "car", "entry_id": "veh"},
        {"detector_class": "person", "entry_id": "per"},
        {"detector_class": "dog", "entry_id": "dog"},
    ]
    api.json("PUT", f"/projects/{pid}/mapping", {"rows": rows})
    bucket = ports.settings.data_bucket or ""
    harness.put_objects_in_process(
        bucket, ((f"{ORG}/cam/{i:03d}.jpg", b"\xff\xd8jpeg") for i in range(IMAGES))
    )
    harness.connect_dataset(api, pid, bucket, f"{ORG}/cam/")
    harness.move_tasks(api, pid)
    ref = ProjectRef(ORG, pid)
    ids = sorted(ports.tasks.ids_in_state(ref, LabelingState.WAITING))
    for i, task_id in enumerate(ids):
        labels = [_label("veh", i)] + ([_label("per", i)] if i % 4 == 0 else [])
        plant_prelabel(ref, task_id, labels)
    return api, pid


def _sample(api: InProcessApi, pid: str, body: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    started = api.call("POST", f"/projects/{pid}/review-sample", body)
    assert started.status == 202, started.body
    job = started.body
    assert (job["kind"], job["status"]) == ("review_sample", "RUNNING")

    def ready() -> Any:
        reply = api.call("GET", f"/projects/{pid}/review-sample/{job['job_id']}")
        assert reply.status in (200, 202), reply.body
        return reply.body if reply.status == 200 else None

    link = harness.wait_until(ready, what="the review sample", timeout=300, interval=0.3)
    download = requests.get(link["url"], timeout=30)
    assert download.status_code == 200
    return link, download.content


def test_a_label_studio_sample_through_the_jobs_asl_survives_a_dead_step(
    project: tuple[InProcessApi, str],
) -> None:
    # Given 40 pre-labeled images (40 cars, 10 persons, no dog), a pass of 9 a step
    api, pid = project
    # When a Label Studio sample of 5 boxes a class is drawn, its second step dying once
    link, data = _sample(api, pid, {"format": "labelstudio", "boxes_per_class": 5, "seed": 8})
    # Then the job read each pre-label (the dead step was run again from its cursor)
    job = api.json("GET", f"/projects/{pid}/jobs/{link['job_id']}")
    assert job["status"] == "SUCCEEDED" and job["progress"]["done"] == IMAGES
    assert DyingPass.calls >= IMAGES // 9 + 2
    # And cars and persons got 5 boxes, the dog none, with the reason
    classes = {c["name"]: c for c in link["classes"]}
    assert classes["Person"]["boxes"] == 5 and classes["Person"]["tasks"] == 5
    assert classes["Vehicle"]["boxes"] >= 5 and not classes["Vehicle"]["short"]
    assert classes["Dog"] == {
        "entry_id": "dog",
        "name": "Dog",
        "target": 5,
        "boxes": 0,
        "tasks": 0,
        "short": True,
        "why": "no pre-label holds a box of Dog",
    }
    # And the file is Label Studio's: its config and every task's predictions validate
    archive = zipfile.ZipFile(io.BytesIO(data))
    interface = LabelInterface(archive.read("labeling_config.xml").decode())
    tasks = json.loads(archive.read("tasks.json"))
    assert len(tasks) == link["tasks"] and 5 <= len(tasks) <= 10
    for task in tasks:
        assert interface.validate_task({"data": task["data"]})
        for prediction in task["predictions"]:
            assert interface.validate_prediction(prediction, return_errors=True) == []
    # And the same seed draws the same sample again (the crash changed nothing)
    again, data_again = _sample(
        api, pid, {"format": "labelstudio", "boxes_per_class": 5, "seed": 8}
    )
    ids = sorted(t["data"]["prelabel_task_id"] for t in tasks)
    redrawn = json.loads(zipfile.ZipFile(io.BytesIO(data_again)).read("tasks.json"))
    assert sorted(t["data"]["prelabel_task_id"] for t in redrawn) == ids
    assert again["job_id"] != link["job_id"]


def test_a_cvat_sample_is_coco_that_pycocotools_loads(
    project: tuple[InProcessApi, str], tmp_path: Path
) -> None:
    # Given the pre-labeled project
    api, pid = project
    # When a CVAT sample of 3 boxes a class is drawn
    link, data = _sample(api, pid, {"format": "cvat", "boxes_per_class": 3})
    # Then its zip holds COCO where CVAT's COCO 1.0 loader looks, loadable by pycocotools
    archive = zipfile.ZipFile(io.BytesIO(data))
    path = tmp_path / "instances_default.json"
    path.write_bytes(archive.read("annotations/instances_default.json"))
    coco = COCO(str(path))
    assert len(coco.getImgIds()) == link["tasks"] and len(coco.getAnnIds()) == link["boxes"]
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["Vehicle", "Person", "Dog"]
    # And the manifest names each image's S3 object and its place under images/
    manifest = json.loads(archive.read("prelabel_export.json"))
    assert sorted(f["image"] for f in manifest["files"]) == sorted(
        f"images/{img['file_name']}" for img in coco.loadImgs(coco.getImgIds())
    )
    assert link["filename"] == f"{pid}-review-cvat.zip" and link["seed"] >= 0
