"""Reviewed labels and the quality report on the local stack: a file uploaded with the
presigned POST to moto's S3, the import and quality jobs through the real jobs ASL in moto's
Step Functions and the real handlers, items in DynamoDB Local; a step that dies after writing
is retried by the ASL and writes nothing twice."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass

import boto3
import pytest

from prelabel.adapters.dynamodb.keys import Shard, shard_index
from prelabel.adapters.dynamodb.mapping_items import mapping_to_items
from prelabel.adapters.dynamodb.models import ReviewedModel, RunSnapshotModel
from prelabel.adapters.dynamodb.reviewed_labels import DynamoReviewedLabels
from prelabel.adapters.dynamodb.runs import snapshot_key
from prelabel.container import Container
from prelabel.domain.entities import Box, Label, ProjectRef
from prelabel.domain.reviewed_labels import ReviewWrite, TaskReview
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi
from prelabel_local.quality_flow import compute_quality, import_reviewed, quality, upload_file
from tests.integration.plant import plant_prelabel

pytestmark = pytest.mark.integration

ORG = "revco"
CONFIG = [
    {"id": "veh", "name": "Vehicle", "geometry": "bbox"},
    {"id": "per", "name": "Person", "geometry": "bbox"},
]
MAPPING = {
    "rows": [
        {"detector_class": "car", "entry_id": "veh", "min_confidence": 0.3},
        {"detector_class": "person", "entry_id": "per"},
    ],
    "default_threshold": 0.5,
}
CAR = (10.0, 10.0, 50.0, 40.0)
PERSON = (60.0, 5.0, 90.0, 60.0)
HIGH, IMAGES = 6, 8
RUN = "run_reviewed"


@dataclass
class Reviewed:
    c: Container
    ref: ProjectRef
    api: InProcessApi
    keys: list[str]
    task_of: dict[str, str]

    @property
    def pid(self) -> str:
        return self.ref.project_id


def _label(entry: str, cls: str, score: float, box: tuple[float, ...], n: int) -> Label:
    name = "Vehicle" if entry == "veh" else "Person"
    return Label(f"l{n}", entry, name, Box(*box), cls, score, "yolox", "0.1")


@pytest.fixture
def world(ports: Container) -> Reviewed:
    """8 images connected as a dataset, each pre-labeled by one run (mapping snapshot kept):
    a car (0.9 on 6 images, 0.35 on 2) and a person (0.8)."""
    harness.seed_organization(ports, ORG)
    api = InProcessApi(ORG)
    pid = harness.create_project(api, "Streets", CONFIG)
    api.json("PUT", f"/projects/{pid}/mapping", MAPPING)
    ref = ProjectRef(ORG, pid)
    project = ports.projects.get(ref)
    RunSnapshotModel(
        snapshot_key(ref),
        RUN,
        mapping=mapping_to_items(project.mapping),
        default_threshold=project.default_threshold,
        entry_names={"veh": "Vehicle", "per": "Person"},
        batch_size=32,
    ).save()
    bucket = ports.settings.data_bucket or ""
    keys = [f"{ORG}/cam/img_{i:02d}.jpg" for i in range(IMAGES)]
    harness.put_objects_in_process(bucket, [(k, b"\xff\xd8jpeg") for k in keys])
    harness.connect_dataset(api, pid, bucket, f"{ORG}/cam/")
    task_of = {t["image_key"]: t["task_id"] for t in harness.all_tasks(api, pid)}
    for i, key in enumerate(keys):
        car = _label("veh", "car", 0.9 if i < HIGH else 0.35, CAR, 0)
        person = _label("per", "person", 0.8, PERSON, 1)
        plant_prelabel(
            ref, task_of[key], [car, person], size=(128, 96), run_id=RUN, model=("yolox", "0.1")
        )
    return Reviewed(ports, ref, api, keys, task_of)


def coco_review(keys: Sequence[str]) -> bytes:
    """Reviewers kept the 0.9 cars, deleted the 0.35 ones, and kept the person on even images."""
    images, annotations = [], []
    for i, key in enumerate(keys, start=1):
        images.append({"id": i, "file_name": key, "width": 128, "height": 96})
        boxes = ([(1, CAR)] if i <= HIGH else []) + ([(2, PERSON)] if i % 2 else [])
        for cat, (x1, y1, x2, y2) in boxes:
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i,
                    "category_id": cat,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": 1.0,
                    "iscrowd": 0,
                }
            )
    cats = [{"id": 1, "name": "Vehicle"}, {"id": 2, "name": "Person"}]
    return json.dumps({"images": images, "annotations": annotations, "categories": cats}).encode()


def test_a_file_posted_to_s3_is_imported_by_the_job_into_items_of_their_shards(
    world: Reviewed,
) -> None:
    # Given the reviewers' COCO file, and an upload form signed by the API
    data = coco_review(world.keys)
    ticket = world.api.json(
        "POST", f"/projects/{world.pid}/reviewed-labels/uploads", {"file_name": "review.json"}
    )
    policy = json.loads(base64.b64decode(ticket["fields"]["policy"]))
    assert ["content-length-range", 1, 256 * 1024 * 1024] in policy["conditions"]
    assert {"key": ticket["key"]} in policy["conditions"]
    assert ticket["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    # When the file is POSTed to S3 with that form and imported
    key = upload_file(world.api, world.pid, "review.json", data)
    s3 = boto3.client("s3")
    assert s3.get_object(Bucket=world.c.settings.data_bucket, Key=key)["Body"].read() == data
    job = import_reviewed(world.api, world.pid, key)
    # Then the job succeeded through the ASL with the report as its result
    assert job["status"] == "SUCCEEDED", job
    result = job["result"]
    assert (result["images_found"], result["images_matched"], result["boxes_kept"]) == (8, 8, 10)
    assert job["progress"] == {"done": 8, "total": 8, "unit": "images", "percent": 100.0}
    # And each task's reviewed labels are an item in its shard's partition, job and boxes kept
    for i, key_i in enumerate(world.keys):
        task_id = world.task_of[key_i]
        item = ReviewedModel.get(Shard(world.ref, shard_index(task_id, 16)).reviewed_key, task_id)
        assert item.job_id == job["job_id"] and item.format == "coco"
        assert len(json.loads(item.labels)["l"]) == (i < HIGH) + (i % 2 == 0)
    # And the job's working files are gone; the upload stays
    left = s3.list_objects_v2(Bucket=world.c.settings.data_bucket, Prefix=f"{ORG}/reviewed/")
    assert [o["Key"] for o in left.get("Contents", [])] == [key]


class DiesAfterWriting(DynamoReviewedLabels):
    """Stores the first slice's labels, then the step's Lambda dies (once)."""

    died = False

    def put(self, ref: ProjectRef, reviews: Sequence[TaskReview]) -> ReviewWrite:
        written = super().put(ref, reviews)
        if not DiesAfterWriting.died:
            DiesAfterWriting.died = True
            raise RuntimeError("the step's Lambda died after writing")
        return written


def test_a_step_that_dies_after_writing_is_retried_by_the_asl_and_writes_nothing_twice(
    world: Reviewed,
) -> None:
    # Given reviewed-label writes whose first step dies after storing its slice
    DiesAfterWriting.died = False
    # (the job steps' ports were built when the dataset's import ran: replace the one part)
    world.c.review_ports.reviewed = DiesAfterWriting(world.c.connection, world.c.layouts)
    key = upload_file(world.api, world.pid, "review.json", coco_review(world.keys))
    # When the file is imported
    job = import_reviewed(world.api, world.pid, key)
    # Then the ASL ran the step again, the job succeeded with the same report as a clean run
    assert DiesAfterWriting.died and job["status"] == "SUCCEEDED", job
    assert (job["result"]["images_matched"], job["result"]["boxes_kept"]) == (8, 8 + 2)
    assert "duplicate_image" not in job["result"]["report"]["findings"]
    # And the count says 8 tasks written 8 times
    count = world.c.reviewed_labels.count(world.ref)
    assert (count.tasks, count.changes) == (8, 8)


def test_the_quality_job_reports_per_class_and_its_suggestion_is_one_mapping_put(
    world: Reviewed,
) -> None:
    # Given the reviewed labels imported
    key = upload_file(world.api, world.pid, "review.json", coco_review(world.keys))
    assert import_reviewed(world.api, world.pid, key)["status"] == "SUCCEEDED"
    # When the quality report is computed through the ASL and read for a target of 0.6
    job = compute_quality(world.api, world.pid)
    report = quality(world.api, world.pid, target=0.6)
    # Then the job counted 8 tasks with both, and the report rests on them
    assert job["status"] == "SUCCEEDED" and job["result"]["tasks"] == 8, job
    assert report["summary"]["computed"] and report["summary"]["tasks"] == 8
    assert not report["summary"]["stale"] and report["summary"]["scopes"] == ["all", "model:0.1"]
    veh, per = report["classes"]
    assert (veh["entry_id"], veh["true_positives"], veh["extra"], veh["misses"]) == ("veh", 6, 2, 0)
    assert (per["entry_id"], per["true_positives"], per["extra"]) == ("per", 4, 4)
    assert veh["precision"]["hits"] == 6 and veh["precision"]["n"] == 8
    assert len(veh["curve"]) == 99 and veh["curve"][35]["threshold"] == 0.36
    # And Vehicle's threshold is calibrated above the wrong cars, from the run's 0.3 floor
    cal = veh["calibration"]
    assert (cal["reachable"], cal["threshold"], cal["evidence_floor"]) == (True, 0.36, 0.3)
    assert [t["effective_threshold"] for t in veh["current_thresholds"]] == [0.3]
    assert per["calibration"]["reachable"] is False
    # When the suggested mapping is PUT as it is
    world.api.json("PUT", f"/projects/{world.pid}/mapping", report["suggested_mapping"])
    # Then the mapping has the car at 0.36 and the person as it was
    rows = world.api.json("GET", f"/projects/{world.pid}/mapping")["rows"]
    assert [(r["detector_class"], r["min_confidence"]) for r in rows] == [
        ("car", 0.36),
        ("person", None),
    ]


def test_another_organization_cannot_import_a_file_of_ours_into_its_own_project(
    world: Reviewed,
) -> None:
    # Given revco's uploaded file, and another organization with a project of its own
    key = upload_file(world.api, world.pid, "review.json", coco_review(world.keys))
    harness.seed_organization(world.c, "rival")
    rival = InProcessApi("rival")
    pid = harness.create_project(rival, "Mine", CONFIG)
    # When the rival imports revco's file, and a key that does not exist in revco's folder
    taken = rival.call("POST", f"/projects/{pid}/reviewed-labels", {"key": key})
    absent = rival.call(
        "POST", f"/projects/{pid}/reviewed-labels", {"key": key.replace("review", "nothing")}
    )
    # Then both are refused alike (403, naming no more than the key asked for)
    assert (taken.status, absent.status) == (403, 403)
    assert taken.body["message"].replace("review", "nothing") == absent.body["message"]
    # And an upload the rival asks for lands in its own folder only
    ticket = rival.json("POST", f"/projects/{pid}/reviewed-labels/uploads", {"file_name": "x.json"})
    assert ticket["key"].startswith(f"rival/reviewed/{pid}/")
    assert rival.json("GET", f"/projects/{pid}/jobs")["jobs"] == []


def test_a_disconnected_datasets_reviewed_labels_go_and_a_new_report_counts_what_is_left(
    world: Reviewed,
) -> None:
    # Given the 8 pre-labeled images of cam, a second dataset of 4 images (2 pre-labeled),
    # all 12 reviewed, and a report of 10 tasks with both and 2 reviewed only
    bucket = world.c.settings.data_bucket or ""
    yard = [f"{ORG}/yard/img_{i:02d}.jpg" for i in range(4)]
    harness.put_objects_in_process(bucket, [(k, b"\xff\xd8jpeg") for k in yard])
    harness.connect_dataset(world.api, world.pid, bucket, f"{ORG}/yard/")
    tasks = {t["image_key"]: t for t in harness.all_tasks(world.api, world.pid)}
    for key in yard[:2]:
        car = _label("veh", "car", 0.9, CAR, 0)
        plant_prelabel(world.ref, tasks[key]["task_id"], [car], size=(128, 96), run_id=RUN)
    key = upload_file(world.api, world.pid, "review.json", coco_review([*world.keys, *yard]))
    assert import_reviewed(world.api, world.pid, key)["status"] == "SUCCEEDED"
    before = compute_quality(world.api, world.pid)["result"]
    assert (before["tasks"], before["reviewed_only"]) == (10, 2)
    cam_ids = [world.task_of[k] for k in world.keys]
    # When the cam dataset is disconnected through the API and its job
    dataset_id = tasks[world.keys[0]]["dataset_id"]
    reply = world.api.call("DELETE", f"/projects/{world.pid}/datasets/{dataset_id}")
    ended = harness.wait_for_job(world.api, world.pid, reply.body["job_id"])
    # Then its 8 tasks went, and no reviewed-label item of theirs is left in any partition
    assert ended["status"] == "SUCCEEDED" and ended["result"] == {"removed": 8}, ended
    store = world.c.reviewed_labels
    assert store.get_many(world.ref, cam_ids) == {}
    # And the rv counters say the 4 reviewed tasks left (as many as the items), after 12
    # writes and 8 removals
    left = store.page(world.ref, None, 100).reviews
    count = store.count(world.ref)
    assert (count.tasks, count.changes) == (4, 20) and len(left) == 4
    assert {r.task_id for r in left} == {tasks[k]["task_id"] for k in yard}
    # And the old report is stale, and a new one counts the 2 with both and 2 reviewed only
    assert quality(world.api, world.pid)["summary"]["stale"]
    after = compute_quality(world.api, world.pid)["result"]
    assert (after["tasks"], after["reviewed_only"]) == (2, 2)
    assert not quality(world.api, world.pid)["summary"]["stale"]
