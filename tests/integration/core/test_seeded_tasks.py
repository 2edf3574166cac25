"""harness.seed_tasks (the 1M run of benchmarks/scale.py fills its project with it): the tasks
it writes straight into the tables are what the API and the product's jobs see of an import
followed by a move: counts, pages, filters, the review queue, the dataset, and a disconnect
that finds every one of them through the indexes and brings the counters back to zero."""

from __future__ import annotations

from typing import Any

from prelabel.container import Container
from prelabel.domain.entities import ProjectRef
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi

CONFIG = [{"id": "veh", "name": "Vehicle", "geometry": "bbox"}]
N = 200
ZERO = dict.fromkeys(("backlog", "in_progress", "completed", "skipped", "failed"), 0)


def test_seeded_tasks_read_and_disconnect_as_imported_ones(ports: Container, make_org: Any) -> None:
    # Given a project of 16 shards with 200 seeded tasks, half of them with pre-labels of 5
    # boxes, one in five of those queued for review
    make_org("acme")
    api = InProcessApi("acme")
    pid = harness.create_project(api, "Seeded", CONFIG)
    ref = ProjectRef("acme", pid)
    bucket = ports.settings.data_bucket
    assert bucket is not None
    dataset, ids = harness.seed_tasks(ports, ref, bucket, "acme/images/", N, workers=2)
    planted = sorted(ids)[::2]
    harness.plant_prelabels(ref, planted, 5, queued_every=5)
    # When the UI reads the project
    counts = api.json("GET", f"/projects/{pid}/assistant")["counts"]
    tasks = harness.all_tasks(api, pid)
    prelabeled = harness.all_tasks(api, pid, prelabeled="true")
    review = api.json("GET", f"/projects/{pid}/tasks", query={"order": "review", "limit": "20"})
    listed = api.json("GET", f"/projects/{pid}/datasets/{dataset.dataset_id}")
    # Then the counters count 200 WAITING tasks, 100 of them pre-labeled
    assert counts == {**ZERO, "waiting": N, "total": N, "eligible": 100, "prelabeled": 100}
    # And the pages list each seeded task once, WAITING, of the dataset, at its image key
    assert sorted(t["task_id"] for t in tasks) == sorted(ids)
    assert {(t["state"], t["dataset_id"]) for t in tasks} == {("WAITING", dataset.dataset_id)}
    assert sorted(t["image_key"] for t in tasks) == harness.image_keys("acme/images/", N)
    # And the pre-labeled filter and the review queue find the planted ones, queued first
    assert sorted(t["task_id"] for t in prelabeled) == planted
    assert {t["label_count"] for t in prelabeled} == {5}
    assert sorted(t["task_id"] for t in review["tasks"]) == sorted(planted[::5])
    # And the dataset is READY with its 200 tasks
    assert (listed["status"], listed["task_count"]) == ("READY", N)
    # When the dataset is disconnected (a job, reading the by-dataset index of each shard)
    job = api.json("DELETE", f"/projects/{pid}/datasets/{dataset.dataset_id}")
    ended = harness.wait_for_job(api, pid, job["job_id"])
    # Then it removes all 200, and every counter is back to zero
    assert ended["result"] == {"removed": N}, ended
    counts = api.json("GET", f"/projects/{pid}/assistant")["counts"]
    assert counts == {**ZERO, "waiting": 0, "total": 0, "eligible": 0, "prelabeled": 0}
    assert harness.all_tasks(api, pid) == []
