"""The review queue on DynamoDB Local: the index entry written in the batch's commit, pages in
review order (sharded and legacy projects), a first page that reads the same few items at any
size, and a reshard that carries the entries."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from prelabel.adapters.dynamodb.keys import Shard, shard_index
from prelabel.adapters.dynamodb.models import TABLE_OF, PrelabelModel
from prelabel.container import Container
from prelabel.domain.entities import (
    LabelingState,
    ProjectRef,
    Run,
    RunCounters,
    RunSnapshot,
    RunStatus,
)
from prelabel.domain.errors import InvalidInput
from prelabel.domain.jobs import JobKind
from prelabel.domain.mapping import LabelMapping
from prelabel.ports.labeling import BatchCommit, BatchItem, DoneTask, FailedTask
from prelabel.ports.tasks import TaskFilter, TaskOrder
from prelabel.quality.priority import REST_VALUE, ReviewPriority, review_priority
from prelabel.services.jobs.service import new_job
from tests.integration.core.api_client import call
from tests.integration.core.test_task_shards import make_project, new_tasks

REVIEW = TaskFilter(order=TaskOrder.REVIEW)
COMMIT_SIZE = 40


def _random_priority(rng: random.Random) -> ReviewPriority:
    """Boxes 0 to 0.25 above a 0.3 threshold, 0 to 5 of them: every tier comes up."""
    return review_priority([(0.3 + rng.random() * 0.25, 0.3) for _ in range(rng.randrange(6))])


def _run(ports: Container, ref: ProjectRef, total: int) -> str:
    # A fresh run id: a commit's idempotency token derives from it, and DynamoDB Local keeps
    # tokens across tests' tables for minutes.
    run_id = f"run_{uuid.uuid4().hex[:12]}"
    run = Run(ref, run_id, RunStatus.RUNNING, RunCounters(total=total), started_at="now")
    assert ports.runs.create(run, RunSnapshot(LabelMapping(()), 0.3, {}, COMMIT_SIZE))
    return run.run_id


def _commit_all(ports: Container, ref: ProjectRef, priorities: dict[str, ReviewPriority]) -> None:
    """Pre-labels with these priorities, through the batch commit a run makes."""
    run_id = _run(ports, ref, len(priorities))
    ids = sorted(priorities)
    for n, start in enumerate(range(0, len(ids), COMMIT_SIZE)):
        chunk = ids[start : start + COMMIT_SIZE]
        done = [DoneTask(t, (), 640, 480, review=priorities[t]) for t in chunk]
        batch = BatchCommit(
            BatchItem(ref.org_id, ref.project_id, run_id, n, tuple(chunk)), ("m", "1"), done
        )
        assert ports.batches.commit(batch).committed
    assert ports.runs.finish(ref, run_id, RunStatus.COMPLETED, None)


def _expected(priorities: dict[str, ReviewPriority]) -> list[str]:
    queued = sorted((p.key, t) for t, p in priorities.items() if p.queued)
    rest = sorted(t for t, p in priorities.items() if not p.queued)
    return [t for _, t in queued] + rest


def _all_pages(ports: Container, ref: ProjectRef, size: int) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(1000):
        page = ports.tasks.list_tasks(ref, REVIEW, size, cursor)
        seen += [t.task_id for t in page.tasks]
        cursor = page.cursor
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


@pytest.fixture
def reads(ports: Container) -> Iterator[list[tuple[str, int]]]:
    """Every DynamoDB request the adapters send, with the items its answer held."""
    calls: list[tuple[str, int]] = []

    def record(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        items = parsed.get("Count")
        if items is None:
            items = sum(len(v) for v in parsed.get("Responses", {}).values())
        calls.append((model.name, int(items)))

    clients = {
        id(c): c
        for c in [ports.connection.client]
        + [m._get_connection().connection.client for m in TABLE_OF]
    }
    for client in clients.values():
        client.meta.events.register("after-call.dynamodb.*", record)
    yield calls
    for client in clients.values():
        client.meta.events.unregister("after-call.dynamodb.*", record)


@pytest.mark.parametrize("shards", [16, None], ids=["sharded", "legacy"])
def test_the_commit_writes_the_index_entry_with_the_pre_label(
    ports: Container, make_org: Any, shards: int | None
) -> None:
    # Given a project with 3 WAITING tasks and a run
    make_org("acme")
    ref = make_project("q1", shards)
    ports.tasks.add_many(new_tasks(ref, 3, LabelingState.WAITING))
    a, b, c = sorted(t.task_id for t in new_tasks(ref, 3, LabelingState.WAITING))
    run_id = _run(ports, ref, 3)
    near = review_priority([(0.312, 0.3)])
    sure = review_priority([(0.95, 0.3)])
    # When one batch commits a near-threshold pre-label, a sure one and a failure
    batch = BatchCommit(
        BatchItem("acme", ref.project_id, run_id, 0, (a, b, c)),
        ("m", "1"),
        [DoneTask(a, (), 10, 10, review=near), DoneTask(b, (), 10, 10, review=sure)],
        [FailedTask(c, "unreadable")],
    )
    assert ports.batches.commit(batch).committed
    # Then the near one's pre-label carries its index key (priority key + task id), and the
    # review index of its shard lists it; the sure one and the failure are not in the index
    shard = Shard(ref, None if shards is None else shard_index(a, shards))
    assert PrelabelModel.get(shard.review_key, a).review == near.key + a
    listed = {
        (item.outcome_key, item.review, item.task_id)
        for n in ([None] if shards is None else range(shards))
        for item in PrelabelModel.review_queue.query(Shard(ref, n).review_key)
    }
    assert listed == {(shard.review_key, near.key + a, a)}
    # And the tasks read back with their priorities
    assert ports.tasks.get(ref, a).review_priority == near.value
    assert ports.tasks.get(ref, b).review_priority == REST_VALUE
    assert ports.tasks.get(ref, c).review_priority is None


def test_a_commit_refused_for_its_run_leaves_no_index_entry(
    ports: Container, make_org: Any
) -> None:
    # Given a run that was stopped before its batch commits
    make_org("acme")
    ref = make_project("q2", 16)
    (task,) = new_tasks(ref, 1, LabelingState.WAITING)
    ports.tasks.add_many([task])
    run_id = _run(ports, ref, 1)
    assert ports.runs.request_stop(ref, run_id)
    # When the batch tries to commit a near-threshold pre-label
    near = review_priority([(0.301, 0.3)])
    batch = BatchCommit(
        BatchItem("acme", ref.project_id, run_id, 0, (task.task_id,)),
        ("m", "1"),
        [DoneTask(task.task_id, (), 10, 10, review=near)],
    )
    # Then nothing is written: no pre-label, no index entry, no page in review order
    assert ports.batches.commit(batch).run_closed
    shard = Shard(ref, shard_index(task.task_id, 16))
    assert list(PrelabelModel.review_queue.query(shard.review_key)) == []
    assert ports.tasks.list_tasks(ref, REVIEW, 50, None).tasks == []


@pytest.mark.parametrize("shards", [16, None], ids=["sharded", "legacy"])
def test_pages_in_review_order_list_every_pre_labeled_task_once(
    ports: Container, make_org: Any, shards: int | None
) -> None:
    # Given 150 tasks, 120 pre-labeled with priorities of every tier, 30 not pre-labeled
    make_org("acme")
    ref = make_project("q3", shards)
    tasks = new_tasks(ref, 150, LabelingState.WAITING)
    ports.tasks.add_many(tasks)
    rng = random.Random(21)
    priorities = {t.task_id: _random_priority(rng) for t in tasks[:120]}
    _commit_all(ports, ref, priorities)
    queued = sum(p.queued for p in priorities.values())
    assert 20 < queued < 100  # both the index and the rest are read
    # When the list is read in review order, 7 tasks a page (and 50 a page)
    # Then the queued tasks come by priority key, then the rest by task id, each once
    assert _all_pages(ports, ref, 7) == _expected(priorities)
    assert _all_pages(ports, ref, 50) == _expected(priorities)
    # And each task shows its priority
    first = ports.tasks.list_tasks(ref, REVIEW, 3, None).tasks
    assert [t.review_priority for t in first] == [priorities[t.task_id].value for t in first]


def test_a_cursor_of_review_order_is_refused_elsewhere(ports: Container, make_org: Any) -> None:
    # Given a page in review order of one project, and another project
    make_org("acme")
    ref = make_project("q4", 16)
    tasks = new_tasks(ref, 10, LabelingState.WAITING)
    ports.tasks.add_many(tasks)
    _commit_all(ports, ref, {t.task_id: review_priority([(0.31, 0.3)]) for t in tasks})
    cursor = ports.tasks.list_tasks(ref, REVIEW, 3, None).cursor
    assert cursor is not None
    other = make_project("q5", 16)
    # When its cursor is used for the other project, for the id order, or edited
    # Then each is refused naming the cursor
    for target, flt, text in (
        (other, REVIEW, cursor),
        (ref, TaskFilter(), cursor),
        (ref, REVIEW, cursor.replace("review.", "reviewrest.", 1)),
    ):
        with pytest.raises(InvalidInput) as refused:
            ports.tasks.list_tasks(target, flt, 3, text)
        assert refused.value.field == "cursor"


def _first_page_reads(
    ports: Container, reads: list[tuple[str, int]], ref: ProjectRef
) -> tuple[int, int]:
    reads.clear()
    page = ports.tasks.list_tasks(ref, REVIEW, 50, None)
    assert len(page.tasks) == 50 and page.cursor is not None
    return len(reads), sum(items for _, items in reads)


def test_the_first_page_reads_the_same_few_items_at_any_size(
    ports: Container, make_org: Any, reads: list[tuple[str, int]]
) -> None:
    # Given two projects of 16 shards, 400 and 4,000 pre-labeled tasks, about a quarter of
    # them queued (more than a page even in the small one)
    make_org("acme")
    figures = []
    for name, n in (("small", 400), ("large", 4000)):
        ref = make_project(name, 16)
        tasks = new_tasks(ref, n, LabelingState.WAITING)
        ports.tasks.add_many(tasks)
        rng = random.Random(n)
        _commit_all(ports, ref, {t.task_id: _random_priority(rng) for t in tasks})
        # When the first page of 50 in review order is read
        figures.append(_first_page_reads(ports, reads, ref))
    # Then both make the same requests: 16 index queries of 9 keys each and two BatchGetItems
    # (the page's tasks and pre-labels), reading at most 244 items (fewer where a small
    # project's shard holds fewer than 9 queued tasks)
    (small_requests, small_items), (large_requests, large_items) = figures
    assert small_requests == large_requests == 18
    assert small_items <= large_items == 16 * 9 + 2 * 50


def test_a_reshard_moves_the_index_entries_with_the_pre_labels(
    ports: Container, make_org: Any
) -> None:
    # Given a legacy project with 80 pre-labeled tasks in review order
    make_org("acme")
    ref = make_project("q6", None)
    tasks = new_tasks(ref, 80, LabelingState.WAITING)
    ports.tasks.add_many(tasks)
    rng = random.Random(6)
    priorities = {t.task_id: _random_priority(rng) for t in tasks}
    _commit_all(ports, ref, priorities)
    assert _all_pages(ports, ref, 9) == _expected(priorities)
    # When a reshard job moves its tasks to 16 shards, halfway and then to the end
    job = ports.job_service.create(new_job(ref, JobKind.RESHARD, {}))
    ports.tasks.begin_resharding(ref, job.job_id, None)
    ports.tasks.reshard_slice(ref, job.job_id, 40)
    halfway = _all_pages(ports, ref, 9)
    while ports.tasks.reshard_slice(ref, job.job_id, 40).left:
        pass
    ports.tasks.end_resharding(ref, job.job_id)
    # Then the order is the same halfway (legacy partition and shards read together) and after
    assert halfway == _expected(priorities)
    assert _all_pages(ports, ref, 9) == _expected(priorities)
    # And every queued task's entry is in its shard's index partition, none in the legacy one
    assert list(PrelabelModel.review_queue.query(Shard(ref, None).review_key)) == []
    for task_id, priority in priorities.items():
        shard = Shard(ref, shard_index(task_id, 16))
        entry = PrelabelModel.get(shard.review_key, task_id).review
        assert entry == (priority.key + task_id if priority.queued else None)


def test_the_api_refuses_review_order_with_filters_it_cannot_serve(
    ports: Container, make_org: Any
) -> None:
    # Given a project of the caller's organization
    make_org("acme")
    config = [{"id": "veh", "name": "Vehicle", "geometry": "bbox"}]
    pid = call("POST", "/projects", "acme", {"name": "Q", "label_config": config}).body[
        "project_id"
    ]
    # When its tasks are asked in review order with a state, a dataset or not pre-labeled
    for name, value in (("state", "WAITING"), ("dataset_id", "ds_1"), ("prelabeled", "false")):
        reply = call(
            "GET", f"/projects/{pid}/tasks", "acme", query={"order": "review", name: value}
        )
        # Then 400 names the parameter and says why
        assert reply.status == 400, reply.body
        assert reply.body["field"] == name and "order=review" in reply.body["message"]
    # And review order alone (or with prelabeled=true) answers, empty before any pre-label
    for query in ({"order": "review"}, {"order": "review", "prelabeled": "true"}):
        reply = call("GET", f"/projects/{pid}/tasks", "acme", query=query)
        assert reply.status == 200 and reply.body == {"tasks": [], "cursor": None}
    # And an order that does not exist is refused naming it
    bad = call("GET", f"/projects/{pid}/tasks", "acme", query={"order": "score"})
    assert bad.status in (400, 422) and "order" in json.dumps(bad.body)
