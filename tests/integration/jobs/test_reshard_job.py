"""Moving a legacy project's tasks to shards, on the local stack (the jobs ASL in moto's Step
Functions, the real handlers, DynamoDB Local): a job whose slice dies mid-way, views that stay
exact while tasks are half moved, and a project that works as a sharded one afterwards."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from prelabel.adapters.dynamodb.counts import counter_values
from prelabel.adapters.dynamodb.keys import COUNTS_ITEM, Shard, shard_index
from prelabel.adapters.dynamodb.models import CountsModel, PrelabelModel, ProjectModel, TaskModel
from prelabel.adapters.dynamodb.tasks import DynamoTaskRepository
from prelabel.container import Container
from prelabel.domain.entities import Box, Label, LabelingState, PrelabelState, ProjectRef
from prelabel.domain.jobs import JobKind
from prelabel.ports.tasks import Removal
from prelabel.services.jobs.service import new_job
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi
from tests.integration.plant import plant_prelabel

ORG = "oldco"
IMAGES = 600
PREFIX = f"{ORG}/shots/"


class CrashingSlice(DynamoTaskRepository):
    """The first slice moves 50 tasks, then its Lambda dies."""

    crashed = False

    def reshard_slice(self, ref: ProjectRef, job_id: str, limit: int) -> Removal:
        if not self.crashed:
            self.crashed = True
            super().reshard_slice(ref, job_id, 50)
            raise RuntimeError("the job step died mid-slice")
        return super().reshard_slice(ref, job_id, limit)


@dataclass
class Old:
    c: Container
    ref: ProjectRef
    api: InProcessApi
    tasks: CrashingSlice
    labeled: list[str]

    @property
    def pid(self) -> str:
        return self.ref.project_id

    def counts(self) -> dict[str, int]:
        view: dict[str, int] = self.api.json("GET", f"/projects/{self.pid}/assistant")["counts"]
        return view

    def page_ids(self, **query: str) -> list[str]:
        return [t["task_id"] for t in harness.all_tasks(self.api, self.pid, **query)]


@pytest.fixture
def old(ports: Container) -> Old:
    """A project made before shards (no N on its item): 600 tasks imported into its one
    partition, 300 moved to WAITING, 40 of those pre-labeled and 10 failed."""
    tasks = CrashingSlice(
        ports.connection, ports.settings.cursor_mac_key, ports.layouts, ports.settings.task_shards
    )
    ports.override(tasks=tasks)
    harness.seed_organization(ports, ORG)
    api = InProcessApi(ORG)
    pid = harness.create_project(api, "Old", [{"id": "veh", "name": "Vehicle", "geometry": "bbox"}])
    ProjectModel(ORG, pid).update(actions=[ProjectModel.shards.remove()])
    api.json(
        "PUT", f"/projects/{pid}/mapping", {"rows": [{"detector_class": "car", "entry_id": "veh"}]}
    )
    bucket = ports.settings.data_bucket or ""
    harness.put_objects_in_process(
        bucket, [(f"{PREFIX}{i:04d}.jpg", b"\xff\xd8jpeg") for i in range(IMAGES)]
    )
    harness.connect_dataset(api, pid, bucket, PREFIX)
    ref = ProjectRef(ORG, pid)
    backlog = sorted(tasks.ids_in_state(ref, LabelingState.BACKLOG))
    harness.move_tasks(api, pid, backlog[:300])
    waiting = sorted(tasks.ids_in_state(ref, LabelingState.WAITING))
    box = Label("l0", "veh", "Vehicle", Box(1, 2, 30, 40), "car", 0.9, "m", "1")
    for task_id in waiting[:40]:
        plant_prelabel(ref, task_id, [box])
    for task_id in waiting[40:50]:
        plant_prelabel(ref, task_id, failed_reason="unreadable")
    return Old(ports, ref, api, tasks, waiting[:40])


def test_a_legacy_project_moves_to_shards_through_a_crash_counted_exactly(old: Old) -> None:
    # Given the legacy project, its tasks all in one partition
    assert len(list(TaskModel.query(old.ref.key))) == IMAGES
    counts = old.counts()
    assert (counts["total"], counts["waiting"], counts["eligible"]) == (IMAGES, 300, 250)
    assert (counts["prelabeled"], counts["failed"]) == (40, 10)
    pages = {q: old.page_ids(**dict([q])) for q in (("state", "WAITING"), ("prelabeled", "true"))}
    # When its tasks are moved to shards, and the job's first slice dies after 50 of them
    reply = old.api.call("POST", f"/projects/{old.pid}/reshard")
    assert reply.status == 202 and reply.body["kind"] == "reshard"
    job = harness.wait_for_job(old.api, old.pid, reply.body["job_id"], timeout=600)
    # Then the job succeeded, each task moved once
    assert old.tasks.crashed
    assert job["status"] == "SUCCEEDED" and job["result"] == {"moved": IMAGES}
    # And nothing is left under the legacy keys; the project has 16 shards
    assert list(TaskModel.query(old.ref.key)) == []
    for outcome in PrelabelState:
        assert list(PrelabelModel.query(Shard(old.ref, None).outcome_key(outcome))) == []
    assert CountsModel.count(f"{old.ref.key}#counts") == 0
    item = ProjectModel.get(ORG, old.pid)
    assert (item.shards, item.reshard_to, item.reshard_job) == (16, None, None)
    # And every task is in its shard, and each shard's counters count exactly its tasks
    for n in range(16):
        shard = Shard(old.ref, n)
        items = list(TaskModel.query(shard.tasks_key))
        assert all(shard_index(t.task_id, 16) == n for t in items)
        assert all(t.state_key == shard.state_key(LabelingState(t.state)) for t in items)
        done = {p.task_id for p in PrelabelModel.query(shard.outcome_key(PrelabelState.DONE))}
        failed = {p.task_id for p in PrelabelModel.query(shard.outcome_key(PrelabelState.FAILED))}
        expected = Counter(t.state.lower() for t in items)
        expected["prelabeled"], expected["failed"] = len(done), len(failed)
        expected["eligible"] = sum(
            t.state == "WAITING" and t.task_id not in done | failed for t in items
        )
        stored = counter_values(CountsModel.get(shard.counts_key, COUNTS_ITEM))
        assert {k: v for k, v in stored.items() if v} == {k: v for k, v in expected.items() if v}
    # And the views show what they showed before, pre-labels and all
    assert old.counts() == counts
    assert {q: old.page_ids(**dict([q])) for q in pages} == pages
    task = old.api.json("GET", f"/projects/{old.pid}/tasks/{old.labeled[0]}")
    assert [label["entry_id"] for label in task["labels"]] == ["veh"]


def test_views_stay_exact_halfway_and_writers_wait_for_the_job(old: Old) -> None:
    # Given the project's tasks half moved by a reshard job (its slices driven here, the job
    # not started on the engine)
    before = old.counts()
    every = old.page_ids()
    old.tasks.crashed = True  # no crash in this one
    job = old.c.job_service.create(new_job(old.ref, JobKind.RESHARD, {}))
    old.tasks.begin_resharding(old.ref, job.job_id, None)
    moved = old.tasks.reshard_slice(old.ref, job.job_id, 250)
    assert moved.left and moved.removed >= 250
    # Then the views read both places: the same counts, each task once, in order
    assert old.counts() == before
    assert old.page_ids() == every
    assert old.page_ids(prelabeled="true") == sorted(old.labeled)
    # And a run and a move are refused while the job runs, naming it
    run = old.api.call("POST", f"/projects/{old.pid}/runs", {"confirm": True})
    assert run.status == 409 and job.job_id in run.body["message"]
    move = old.api.call(
        "POST",
        f"/projects/{old.pid}/tasks/move",
        {"from": "WAITING", "to": "BACKLOG", "task_ids": every[:3]},
    )
    assert move.status == 409 and job.job_id in move.body["message"]
    # When the job's steps go on to the end
    while old.tasks.reshard_slice(old.ref, job.job_id, 250).left:
        pass
    old.tasks.end_resharding(old.ref, job.job_id)
    # Then writes go again, now to the shards, counted
    assert harness.move_tasks(old.api, old.pid, source="WAITING", target="BACKLOG") == 300
    after = old.counts()
    assert (after["waiting"], after["backlog"], after["eligible"]) == (0, IMAGES, 0)
