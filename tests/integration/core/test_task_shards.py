"""Tasks spread over shards, on DynamoDB Local: where the items land, counters per shard summed
in one read, pages merged from the shards' sorted lists, transactions that touch few counters
items, batch commits across shards, and legacy (unsharded) projects as they were."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from prelabel.adapters.dynamodb.counts import counter_values
from prelabel.adapters.dynamodb.keys import COUNTS_ITEM, Shard, shard_index
from prelabel.adapters.dynamodb.models import TABLE_OF, CountsModel, ProjectModel, TaskModel
from prelabel.adapters.dynamodb.projects import DynamoProjectRepository
from prelabel.adapters.dynamodb.shards import Layout, Layouts
from prelabel.adapters.dynamodb.tasks import DynamoTaskRepository
from prelabel.container import Container
from prelabel.domain.entities import (
    Dataset,
    DatasetStatus,
    LabelingState,
    Project,
    ProjectRef,
    Run,
    RunCounters,
    RunSnapshot,
    RunStatus,
    Task,
)
from prelabel.domain.errors import Conflict
from prelabel.domain.imports import task_id_for
from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.domain.mapping import LabelMapping
from prelabel.ports.labeling import BatchCommit, BatchItem, DoneTask, FailedTask
from prelabel.ports.tasks import Move, TaskFilter
from tests.integration.plant import plant_prelabel

CONFIG = (LabelEntry("veh", "Vehicle", Geometry.BBOX),)


def make_project(name: str, shards: int | None) -> ProjectRef:
    """A project of `shards` shards; None: a legacy project, made before shards existed."""
    ref = ProjectRef("acme", name)
    DynamoProjectRepository(shards or 1).create(Project(ref, name, CONFIG, created_at="now"))
    if shards is None:
        ProjectModel("acme", name).update(actions=[ProjectModel.shards.remove()])
    return ref


def new_tasks(ref: ProjectRef, n: int, state: LabelingState, dataset: str = "ds1") -> list[Task]:
    return [
        Task(ref, task_id_for(dataset, 0, "b", f"{i}.jpg"), dataset, "b", f"{i}.jpg", state)
        for i in range(n)
    ]


@pytest.fixture
def requests_made(ports: Container) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB request the adapters send (operation, parameters), in order."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, params))

    # pynamodb holds a client per model class, and transactions go through the container's
    clients = {
        id(c): c
        for c in [ports.connection.client]
        + [m._get_connection().connection.client for m in TABLE_OF]
    }
    for client in clients.values():
        client.meta.events.register("provide-client-params.dynamodb.*", record)
    yield calls
    for client in clients.values():
        client.meta.events.unregister("provide-client-params.dynamodb.*", record)


def shard_counters(ref: ProjectRef, shards: int) -> dict[int, Counter[str]]:
    keys = [(Shard(ref, n).counts_key, COUNTS_ITEM) for n in range(shards)]
    return {
        int(item.counts_key.rsplit("#", 1)[1]): counter_values(item)
        for item in CountsModel.batch_get(keys)
    }


def test_a_new_projects_tasks_land_in_their_shards_counted_there(ports: Container) -> None:
    # Given a project made now (16 shards) and 600 tasks, 400 BACKLOG and 200 WAITING
    ref = ProjectRef("acme", "p1")
    ports.projects.create(Project(ref, "p1", CONFIG, created_at="now"))
    backlog = new_tasks(ref, 400, LabelingState.BACKLOG)
    waiting = new_tasks(ref, 200, LabelingState.WAITING, dataset="ds2")
    # When they are added
    ports.tasks.add_many(backlog + waiting)
    # Then each task item is in its shard's partition, and every shard holds some
    found: dict[int, set[str]] = {
        n: {t.task_id for t in TaskModel.query(f"{ref.key}#{n}")} for n in range(16)
    }
    assert all(found.values())
    for task in backlog + waiting:
        assert task.task_id in found[shard_index(task.task_id, 16)]
    assert sum(len(ids) for ids in found.values()) == 600
    # And each shard's counters item counts its own tasks
    per_shard = shard_counters(ref, 16)
    for n, ids in found.items():
        mine = [t for t in backlog + waiting if t.task_id in ids]
        assert per_shard[n]["backlog"] == sum(t.state is LabelingState.BACKLOG for t in mine)
        assert (
            per_shard[n]["waiting"]
            == per_shard[n]["eligible"]
            == len(mine) - per_shard[n]["backlog"]
        )
    # And the project's counts are their sum
    counts = ports.tasks.counts(ref)
    assert counts.by_state[LabelingState.BACKLOG] == 400
    assert (counts.by_state[LabelingState.WAITING], counts.eligible, counts.total) == (
        200,
        200,
        600,
    )


def test_the_counts_of_16_shards_are_one_request(
    ports: Container, requests_made: list[tuple[str, dict[str, Any]]]
) -> None:
    # Given a project of 16 shards with tasks (its layout known to the process)
    ref = ProjectRef("acme", "p1")
    ports.projects.create(Project(ref, "p1", CONFIG, created_at="now"))
    ports.tasks.add_many(new_tasks(ref, 50, LabelingState.WAITING))
    ports.tasks.counts(ref)
    requests_made.clear()
    # When its counts are read
    counts = ports.tasks.counts(ref)
    # Then one BatchGetItem of the 16 counters items was sent
    assert [op for op, _ in requests_made] == ["BatchGetItem"]
    keys = next(iter(requests_made[0][1]["RequestItems"].values()))["Keys"]
    assert len(keys) == 16
    assert counts.eligible == 50


@pytest.mark.parametrize("shards", [16, None], ids=["16 shards", "legacy"])
@pytest.mark.parametrize(
    "flt",
    [
        TaskFilter(),
        TaskFilter(state=LabelingState.WAITING),
        TaskFilter(prelabeled=True),
        TaskFilter(prelabeled=False),
        TaskFilter(dataset_id="ds2"),
        TaskFilter(dataset_id="ds2", state=LabelingState.BACKLOG),
    ],
    ids=["all", "waiting", "prelabeled", "not prelabeled", "dataset", "dataset backlog"],
)
def test_pages_list_every_task_once_in_id_order(
    ports: Container, shards: int | None, flt: TaskFilter
) -> None:
    # Given 150 tasks of two datasets in two states, 40 of the WAITING ones pre-labeled
    ref = make_project("p2", shards)
    tasks = new_tasks(ref, 90, LabelingState.WAITING) + new_tasks(
        ref, 60, LabelingState.BACKLOG, dataset="ds2"
    )
    ports.tasks.add_many(tasks)
    labeled = sorted(t.task_id for t in tasks if t.state is LabelingState.WAITING)[::2][:40]
    for task_id in labeled:
        plant_prelabel(ref, task_id)
    expected = sorted(
        t.task_id
        for t in tasks
        if (flt.state is None or t.state is flt.state)
        and (flt.prelabeled is None or (t.task_id in labeled) is flt.prelabeled)
        and (flt.dataset_id is None or t.dataset_id == flt.dataset_id)
    )
    # When the list is read 7 tasks a page, cursor after cursor
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        page = ports.tasks.list_tasks(ref, flt, 7, cursor)
        seen += [t.task_id for t in page.tasks]
        assert all(t.prelabeled is (t.task_id in labeled) for t in page.tasks)
        cursor = page.cursor
        if cursor is None:
            break
    # Then every matching task came once, in task-id order
    assert seen == expected


def test_moves_touch_few_counters_items_per_transaction_and_stay_exact(
    ports: Container, requests_made: list[tuple[str, dict[str, Any]]]
) -> None:
    # Given a project of 16 shards with 2,000 BACKLOG tasks
    ref = ProjectRef("acme", "p3")
    ports.projects.create(Project(ref, "p3", CONFIG, created_at="now"))
    tasks = new_tasks(ref, 2000, LabelingState.BACKLOG)
    ports.tasks.add_many(tasks)
    requests_made.clear()
    # When all of them move to WAITING in one call
    moved = ports.tasks.move(
        ref, [t.task_id for t in tasks], Move(LabelingState.BACKLOG, LabelingState.WAITING)
    )
    # Then every one moved, counted once
    assert sorted(moved) == sorted(t.task_id for t in tasks)
    counts = ports.tasks.counts(ref)
    assert (counts.by_state[LabelingState.WAITING], counts.eligible) == (2000, 2000)
    assert counts.by_state[LabelingState.BACKLOG] == 0
    # And each transaction held at most 100 items and 8 counters items: a shard's full
    # transactions one, the shards' remainders packed together (each split at most once)
    transactions = [p["TransactItems"] for op, p in requests_made if op == "TransactWriteItems"]
    counters = [
        {
            next(iter(i.values()))["Key"]["project_key"]["S"]
            for i in items
            if "#counts#" in next(iter(i.values()))["Key"]["project_key"]["S"]
        }
        for items in transactions
    ]
    assert all(len(items) <= 100 for items in transactions)
    assert all(1 <= len(c) <= 8 for c in counters)
    assert sum(len(c) for c in counters) <= len(counters) + 16
    assert len(transactions) <= 2000 // 90 + 2
    # And the first 16 transactions each went to another shard
    assert len(set().union(*counters[:16])) == 16


def test_a_batch_commit_counts_each_shard_it_touches(ports: Container, make_org: Any) -> None:
    # Given a project of 16 shards with 3 WAITING tasks in 3 different shards, and a run
    org_id = make_org("acme")
    ref = ProjectRef(org_id, "p4")
    ports.projects.create(Project(ref, "p4", CONFIG, created_at="now"))
    tasks = new_tasks(ref, 40, LabelingState.WAITING)
    ports.tasks.add_many(tasks)
    by_shard = {shard_index(t.task_id, 16): t.task_id for t in tasks}
    a, b, c = list(by_shard.values())[:3]
    run_id = "run_1"
    run = Run(ref, run_id, RunStatus.RUNNING, RunCounters(total=40), started_at="now")
    assert ports.runs.create(run, RunSnapshot(LabelMapping(()), 0.5, {}, 32))
    before = shard_counters(ref, 16)
    # When a batch commits two pre-labels and one failure
    batch = BatchCommit(
        BatchItem(org_id, ref.project_id, run_id, 0, (a, b, c)),
        model=("m", "1"),
        done=[DoneTask(a, (), 10, 10), DoneTask(b, (), 10, 10)],
        failed=[FailedTask(c, "unreadable")],
    )
    assert ports.batches.commit(batch).committed
    # Then each of the three shards counts its own task, and the project's counts add up
    after = shard_counters(ref, 16)
    for task_id, counter in ((a, "prelabeled"), (b, "prelabeled"), (c, "failed")):
        n = shard_index(task_id, 16)
        assert after[n][counter] - before[n][counter] == 1
        assert after[n]["eligible"] - before[n]["eligible"] == -1
    counts = ports.tasks.counts(ref)
    assert (counts.prelabeled, counts.failed, counts.eligible) == (2, 1, 37)
    # And the tasks read back with their outcomes, the batch with its receipt
    assert ports.tasks.get(ref, a).prelabeled and ports.tasks.get(ref, c).prelabel_reason
    assert ports.batches.batch_committed(run_id, 0)
    assert [t.task_id for t in ports.batches.batch_images(ref, (a, b, c))] == []


def test_removing_a_datasets_tasks_goes_through_every_shard(ports: Container) -> None:
    # Given a project of 16 shards with a dataset of 500 tasks (100 pre-labeled) and another
    ref = ProjectRef("acme", "p5")
    ports.projects.create(Project(ref, "p5", CONFIG, created_at="now"))
    gone = new_tasks(ref, 500, LabelingState.WAITING)
    kept = new_tasks(ref, 20, LabelingState.BACKLOG, dataset="ds2")
    ports.datasets.create(
        Dataset(ref, "ds1", "b", "p/", 0, "now", status=DatasetStatus.IMPORTING, job_id="job_x")
    )
    assert ports.tasks.add_dataset_tasks(ref, "ds1", "job_x", gone) == 500
    ports.tasks.add_many(kept)
    for task in gone[:100]:
        plant_prelabel(ref, task.task_id)
    # When its tasks are removed 200 at a time until none is left
    removals = []
    for _ in range(20):
        removal = ports.tasks.delete_dataset_tasks(ref, "ds1", "job_x", 200)
        removals.append(removal.removed)
        if not removal.left:
            break
    # Then all 500 went, with their pre-labels, and the other dataset's stayed
    assert sum(removals) == 500 and removals[0] >= 200
    counts = ports.tasks.counts(ref)
    assert (counts.total, counts.prelabeled, counts.eligible) == (20, 0, 0)
    assert ports.datasets.get(ref, "ds1").task_count == 0
    left = ports.tasks.list_tasks(ref, TaskFilter(), 100, None).tasks
    assert sorted(t.task_id for t in left) == sorted(t.task_id for t in kept)


def test_a_legacy_project_keeps_its_keys_and_everything_works(ports: Container) -> None:
    # Given a project made before shards (no N stored) with 100 BACKLOG tasks
    ref = make_project("old", None)
    tasks = new_tasks(ref, 100, LabelingState.BACKLOG)
    ports.tasks.add_many(tasks)
    # Then they are in the project's one partition, under the keys of old
    assert len(list(TaskModel.query(ref.key))) == 100
    assert {t.state_key for t in TaskModel.query(ref.key)} == {f"{ref.key}#BACKLOG"}
    assert CountsModel.get(f"{ref.key}#counts", COUNTS_ITEM).backlog == 100
    # And moves, pages, counts work on them
    ids = [t.task_id for t in tasks]
    moved = ports.tasks.move(ref, ids[:30], Move(LabelingState.BACKLOG, LabelingState.WAITING))
    assert len(moved) == 30
    assert ports.tasks.counts(ref).eligible == 30
    page = ports.tasks.list_tasks(ref, TaskFilter(state=LabelingState.WAITING), 50, None)
    assert sorted(t.task_id for t in page.tasks) == sorted(ids[:30])


def test_a_legacy_write_racing_the_start_of_a_reshard_writes_nothing(ports: Container) -> None:
    # Given a legacy project whose layout a writer read before a reshard job marked it
    ref = make_project("old", None)
    stale = Layout(ref, None)

    class Stale(Layouts):
        def of(self, ref: ProjectRef) -> Layout:
            return stale

    writer = DynamoTaskRepository(ports.connection, b"k", Stale())
    ProjectModel("acme", "old").update(
        actions=[ProjectModel.reshard_to.set(16), ProjectModel.reshard_job.set("job_r")]
    )
    # When the writer adds tasks
    with pytest.raises(Conflict, match="being moved to 16 shards by job job_r"):
        writer.add_many(new_tasks(ref, 5, LabelingState.BACKLOG))
    # Then nothing was written, in either layout
    assert list(TaskModel.query(ref.key)) == []
    assert ports.tasks.counts(ref).total == 0


def test_eligible_ids_come_a_batch_of_one_shard_at_a_time_the_shards_in_turn(
    ports: Container,
) -> None:
    # Given a project of 16 shards with 1,000 WAITING tasks, 50 of them pre-labeled
    ref = ProjectRef("acme", "p6")
    ports.projects.create(Project(ref, "p6", CONFIG, created_at="now"))
    tasks = new_tasks(ref, 1000, LabelingState.WAITING)
    ports.tasks.add_many(tasks)
    labeled = {t.task_id for t in tasks[::20]}
    for task_id in labeled:
        plant_prelabel(ref, task_id)
    # When a run reads its eligible ids in batches of 8
    ids = list(ports.tasks.eligible_ids(ref, 8))
    # Then each unlabeled task comes once
    assert sorted(ids) == sorted(t.task_id for t in tasks if t.task_id not in labeled)
    # And the full batches come first, each of one shard, 16 in a row of 16 different shards
    batches = [{shard_index(t, 16) for t in ids[i : i + 8]} for i in range(0, len(ids), 8)]
    mixed = [i for i, shards in enumerate(batches) if len(shards) > 1]
    assert len(mixed) <= 16 * 7 // 8 + 1
    assert all(i > len(batches) - len(mixed) - 2 for i in mixed)
    assert len(set().union(*batches[:16])) == 16
