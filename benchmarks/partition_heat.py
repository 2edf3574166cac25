"""Partition heat: the write units per second each DynamoDB partition and item takes when a
project's bulk steps run at a target rate, with its tasks in N shards (16) and in one (N = 1).

Run: .venv/bin/python benchmarks/partition_heat.py [--tasks 12000] [--rate 1200] [--shards 16 1]

What it drives: the product's own adapters (the container's), on DynamoDB Local with the tables
of template.yaml, in the order and slice sizes the jobs and the workflow use them:
- import: `add_dataset_tasks` of 10,000 tasks a slice (an import step's 10 listing pages), then
  the slice's report (`put_slice`) and progress (`set_progress`), as `import_step` does;
- move all: `ids_in_state` (5,000 after the cursor) then `move` with the job's progress, as
  `move_step` does;
- pre-label commits: the run's eligible ids (`eligible_ids(ref, 32)`, the order Prepare cuts
  into batches of 32: a shard's 32, the next shard's, ...) committed batch by batch in that
  order (`DynamoBatchStore.commit`: receipt, 32 pre-labels of 5 boxes, the run's counters, the
  organization's limit, the shards' counters); the workflow runs neighbouring batches at the
  same time, which the even spread over time stands for;
- disconnect: `delete_dataset_tasks` of 3,000 a slice, and the job's progress.

What it records: every write request, as the client sends it (a botocore `before-call` hook on
every client of the process, benchmarks/_common.ApiCounter), each item of it with its table,
key and size (the item's size is followed write by write from the items the run writes).
Units follow DynamoDB's rules as benchmarks/_dynamo_writes.py knows them: ceil(size / 1 KB) per
item write, the larger of the item before and after; twice that inside a transaction; a
transaction's condition check counted as a write of its item (conservative: 2 units per KB);
each global index write (an entry put, removed, or moved to another key: 2) costs 1 on the
index's own partition, the partition of the entry's index key, not doubled by transactions.

Time: the steps do not run at 1,200 tasks/s on DynamoDB Local, so time is the target rate's:
each adapter call's writes are spread evenly over the time its tasks take at `--rate` (a call
that handles 10,000 tasks takes 8.3 s at 1,200/s). Each second's units are summed per partition
(table or index, partition key) and per item; the busiest of each, over the step's whole
seconds, is printed against DynamoDB's 1,000 WCU/s per partition and the table's 40,000 WCU/s
(the default on-demand table quota).

Why `--tasks` tasks stand for a project of 1,000,000: a write's partition depends on its task's
id and the project, never on how many tasks the project holds, and no item grows with the
project (the counters by a digit). A step's second looks the same in its 10th second as in its
800th, so a window of 12,000 tasks per step (10 s at 1,200/s) gives the busiest second of a
1,000,000-task step; `--tasks 1000000` runs the whole of it (hours on DynamoDB Local). What it
does not show: DynamoDB splitting a hot partition by sort key after minutes (it makes N = 1
better than shown, later), and reads (3,000 RCU/s per partition; each write here reads less).
"""

from __future__ import annotations

import argparse
import math
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import Any

from _common import ROOT, ApiCounter, Call, dynamo_item_bytes
from _dynamo_writes import WRITE_OPERATIONS, Index, ItemWrite, item_writes, kb_units, table_indexes

PARTITION_WCU = 1_000
TABLE_WCU = 40_000
BOXES = 5
ORG = "heat-org"

Key = tuple[tuple[str, str], ...]


@dataclass
class Tables:
    """Physical table name -> its logical id, key attribute names, hash key and indexes."""

    logical: dict[str, str]
    keys: dict[str, list[str]]
    hash_key: dict[str, str]
    indexes: dict[str, list[Index]]

    @classmethod
    def of(cls, template: dict[str, Any], names: dict[str, str]) -> Tables:
        keys, hashes = {}, {}
        for logical, physical in names.items():
            schema = template["Resources"][logical]["Properties"]["KeySchema"]
            keys[physical] = [k["AttributeName"] for k in schema]
            hashes[physical] = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
        logical_of = {physical: logical for logical, physical in names.items()}
        return cls(logical_of, keys, hashes, table_indexes(template, names))


def what(table: str, pk: str) -> str:
    """What a partition holds, from its table (or index) and its key."""
    if table.startswith("TasksTable/"):
        return f"{table.split('/')[1]} index"
    if table == "TasksTable":
        if "#pl#" in pk:
            return "pre-labels"
        return "counters" if "#counts" in pk else "tasks"
    if table == "RunsTable":
        return "batch receipts" if pk.startswith("batch#") else "run"
    return {
        "OrganizationsTable": "organization",
        "ProjectsTable": "projects",
        "DatasetsTable": "datasets",
        "JobsTable": "jobs",
    }.get(table, table)


class Items:
    """Every item the run has written, as it stands after each write (sizes and index keys)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, Key], dict[str, Any]] = {}

    def apply(self, w: ItemWrite) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        ident = (w.table, w.key)
        old = self._items.get(ident)
        if w.kind == "ConditionCheck":
            return old, old
        if w.kind == "Delete":
            self._items.pop(ident, None)
            return old, None
        new = dict(w.values) if w.kind == "Put" else {**(old or {}), **w.values}
        for attr in w.removed:
            new.pop(attr, None)
        self._items[ident] = new
        return old, new


@dataclass
class Heat:
    """One step's units per second, per partition (table or index, partition key) and item."""

    tables: Tables
    partitions: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    items: Counter[tuple[int, str, Key]] = field(default_factory=Counter)
    seconds: Counter[int] = field(default_factory=Counter)
    units: int = 0
    tasks: int = 0
    span: float = 0.0

    def add(
        self, second: int, w: ItemWrite, old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> None:
        table = self.tables.logical.get(w.table, w.table)
        size = max(dynamo_item_bytes(old or {}), dynamo_item_bytes(new or {}), w.payload)
        units = kb_units(size) * (2 if w.transactional else 1)
        self._count(second, table, dict(w.key)[self.tables.hash_key[w.table]], units)
        self.items[(second, table, w.key)] += units
        if w.kind == "ConditionCheck":
            return
        for index in self.tables.indexes.get(w.table, []):
            before, after = _index_pk(index, old), _index_pk(index, new)
            if before != after:
                for entry in (before, after):
                    if entry is not None:
                        self._count(second, f"{table}/{index.name}", entry, 1)

    def _count(self, second: int, table: str, pk: str, units: int) -> None:
        self.partitions[(second, table, pk)] += units
        self.seconds[second] += units
        self.units += units

    @property
    def whole_seconds(self) -> int:
        """Seconds fully inside the step (the last, partial one is left out)."""
        return max(1, math.floor(self.span))

    def busiest_partition(self) -> tuple[int, str]:
        n, key = max((n, k) for k, n in self.partitions.items() if k[0] < self.whole_seconds)
        return n, what(key[1], key[2])

    def busiest_item(self) -> tuple[int, str]:
        n, key = max((n, k) for k, n in self.items.items() if k[0] < self.whole_seconds)
        return n, f"{what(key[1], dict(key[2]).get('project_key', ''))}: {_short(key[2])}"

    def busiest_second(self) -> int:
        return max(n for s, n in self.seconds.items() if s < self.whole_seconds)


def _short(key: Key) -> str:
    return " / ".join(v.split("#", 2)[-1] if "#" in v else v for _, v in key)


def _index_pk(index: Index, item: dict[str, Any] | None) -> str | None:
    if not item or any(k not in item for k in index.keys):
        return None
    return str(next(iter(item[index.keys[0]].values())))


@dataclass
class Timeline:
    """Each adapter call's writes, spread evenly over the time its tasks take at the rate."""

    counter: ApiCounter
    tables: Tables
    rate: float
    items: Items = field(default_factory=Items)
    heat: Heat | None = None

    def begin(self) -> Heat:
        """A new step: the writes so far (set-up, earlier steps) are followed, not counted."""
        for call in self._new_writes():
            for w in item_writes(call, self.tables.keys):
                self.items.apply(w)
        self.heat = Heat(self.tables)
        return self.heat

    def call(self, tasks: int | Callable[[Any], int], work: Callable[[], Any]) -> Any:
        """Run `work`; `tasks` it handled (or, from its result, how many it did)."""
        assert self.heat is not None
        result = work()
        calls = self._new_writes()
        if not isinstance(tasks, int):
            tasks = tasks(result)
        span = tasks / self.rate
        for i, call in enumerate(calls):
            second = int(self.heat.span + span * (i + 0.5) / len(calls))
            for w in item_writes(call, self.tables.keys):
                old, new = self.items.apply(w)
                self.heat.add(second, w, old, new)
        self.heat.span += span
        self.heat.tasks += tasks
        return result

    def _new_writes(self) -> list[Call]:
        with self.counter._lock:
            calls, self.counter.calls = self.counter.calls, []
        return [c for c in calls if c.service == "dynamodb" and c.operation in WRITE_OPERATIONS]


IMPORT_SLICE, MOVE_SLICE, DELETE_SLICE, BATCH = 10_000, 5_000, 3_000, 32
JOBS = {"import": "job_import", "move": "job_move", "disconnect": "job_disconnect"}


def _labels() -> tuple[Any, ...]:
    from prelabel.domain.entities import Box, Label

    return tuple(
        Label(f"l{i}", "veh", "Vehicle", Box(i, i, i + 120.5, i + 80.25), "car", 0.91, "m", "1")
        for i in range(BOXES)
    )


def _set_up(c: Any, n: int) -> tuple[Any, list[Any]]:
    """An organization, a project (its N from the container's settings), the dataset owned by
    its import job, the jobs' items, and the n tasks an import of it would make."""
    from prelabel.domain.entities import (
        Dataset,
        DatasetStatus,
        LabelingState,
        Project,
        ProjectRef,
        Task,
    )
    from prelabel.domain.imports import task_id_for
    from prelabel.domain.jobs import Job, JobKind, JobStatus
    from prelabel.domain.label_config import Geometry, LabelEntry
    from prelabel_local import harness

    harness.seed_organization(c, ORG, remaining=n)
    ref = ProjectRef(ORG, f"prj_{uuid.uuid4().hex[:10]}")
    config = (LabelEntry("veh", "Vehicle", Geometry.BBOX),)
    c.projects.create(Project(ref, "Heat", config, created_at="2026-11-01T00:00:00Z"))
    c.datasets.create(
        Dataset(
            ref, "ds1", "data", "cam/", 0, "now", DatasetStatus.IMPORTING, job_id=JOBS["import"]
        )
    )
    for kind, job_id in (
        ("import", JOBS["import"]),
        ("move", JOBS["move"]),
        ("disconnect", JOBS["disconnect"]),
    ):
        c.jobs.create(Job(ref, job_id, JobKind(kind), JobStatus.RUNNING, "now"))
    keys = [f"cam/{i:07d}.jpg" for i in range(n)]
    tasks = [
        Task(ref, task_id_for("ds1", 0, "data", k), "ds1", "data", k, LabelingState.BACKLOG)
        for k in keys
    ]
    return ref, tasks


def _import_slice(c: Any, ref: Any, slice_no: int, done: int, chunk: list[Any]) -> None:
    from prelabel.domain.imports import ReportBuilder
    from prelabel.domain.jobs import ProgressUnit
    from prelabel.ports.jobs import Progress

    job = JOBS["import"]
    c.tasks.add_dataset_tasks(ref, "ds1", job, chunk)
    report = ReportBuilder()
    for _ in chunk:
        report.accepted()
    c.jobs.put_slice(job, slice_no, report.build())
    c.jobs.set_progress(ref, job, Progress(done + len(chunk), None, ProgressUnit.OBJECTS))


def import_step(c: Any, t: Timeline, ref: Any, tasks: list[Any]) -> Heat:
    heat = t.begin()
    for slice_no, start in enumerate(range(0, len(tasks), IMPORT_SLICE)):
        chunk = tasks[start : start + IMPORT_SLICE]
        t.call(len(chunk), partial(_import_slice, c, ref, slice_no, start, chunk))
    return heat


def move_step(c: Any, t: Timeline, ref: Any) -> Heat:
    from prelabel.domain.entities import LabelingState
    from prelabel.ports.tasks import IdRange, Move

    heat = t.begin()
    after: str | None = None
    move = Move(LabelingState.BACKLOG, LabelingState.WAITING, JOBS["move"])
    while True:
        ids = list(c.tasks.ids_in_state(ref, LabelingState.BACKLOG, IdRange(after, MOVE_SLICE)))
        if not ids:
            return heat
        t.call(len(ids), partial(c.tasks.move, ref, ids, move))
        after = ids[-1]


def commit_step(c: Any, t: Timeline, ref: Any, n: int) -> Heat:
    from prelabel.domain.entities import Run, RunCounters, RunSnapshot, RunStatus
    from prelabel.domain.mapping import LabelMapping
    from prelabel.ports.labeling import BatchCommit, BatchItem, DoneTask

    run = Run(ref, "run_heat", RunStatus.RUNNING, RunCounters(total=n), started_at="now")
    assert c.runs.create(run, RunSnapshot(LabelMapping(()), 0.5, {}, BATCH))
    heat = t.begin()
    labels = _labels()
    ids = c.tasks.eligible_ids(ref, BATCH)
    number = 0
    while batch := tuple(islice(ids, BATCH)):
        item = BatchItem(ref.org_id, ref.project_id, run.run_id, number, batch)
        done = [DoneTask(task_id, labels, 1280, 960) for task_id in batch]
        commit = BatchCommit(item, ("yolox-s", "0.4.4"), done)
        result = t.call(len(batch), partial(c.batches.commit, commit))
        assert result.committed, result
        number += 1
    c.runs.finish(ref, run.run_id, RunStatus.COMPLETED, None)
    return heat


def _delete_slice(c: Any, ref: Any, removed: int) -> Any:
    from prelabel.ports.jobs import Progress

    job = JOBS["disconnect"]
    removal = c.tasks.delete_dataset_tasks(ref, "ds1", job, DELETE_SLICE)
    c.jobs.set_progress(ref, job, Progress(removed + removal.removed))
    return removal


def disconnect_step(c: Any, t: Timeline, ref: Any) -> Heat:
    from prelabel.domain.entities import DatasetStatus
    from prelabel.ports.projects import Claim

    claim = Claim(JOBS["disconnect"], DatasetStatus.REMOVING, expected_job_id=JOBS["import"])
    assert c.datasets.claim(ref, "ds1", claim)
    heat = t.begin()
    removed = 0
    while True:
        removal = t.call(lambda r: int(r.removed), partial(_delete_slice, c, ref, removed))
        removed += removal.removed
        if not removal.left:
            return heat


def measure(
    endpoint: str, counter: ApiCounter, template: dict[str, Any], shards: int, n: int, rate: float
) -> dict[str, Heat]:
    import boto3

    from prelabel.container import Container
    from prelabel.settings import Settings
    from prelabel_local.template_resources import TABLE_SETTING, create_tables

    suffix = uuid.uuid4().hex[:8]
    names = {logical: f"{logical}-{suffix}" for logical in TABLE_SETTING}
    create_tables(boto3.client("dynamodb", endpoint_url=endpoint), template, names)
    settings = Settings(
        **{TABLE_SETTING[logical]: name for logical, name in names.items()},
        data_bucket="data",
        dynamodb_endpoint=endpoint,
        task_shards=shards,
    )
    c = Container(settings)
    timeline = Timeline(counter, Tables.of(template, names), rate)
    ref, tasks = _set_up(c, n)
    print(f"  N = {shards}: import ...", flush=True)
    heats = {"import": import_step(c, timeline, ref, tasks)}
    print(f"  N = {shards}: move all ...", flush=True)
    heats["move all"] = move_step(c, timeline, ref)
    print(f"  N = {shards}: pre-label commits ...", flush=True)
    heats["pre-label commits"] = commit_step(c, timeline, ref, n)
    print(f"  N = {shards}: disconnect ...", flush=True)
    heats["disconnect"] = disconnect_step(c, timeline, ref)
    for name, heat in heats.items():
        assert heat.tasks == n, (name, heat.tasks)
    return heats


def _mark(value: int, limit: int) -> str:
    return f"**{value:,}** (over)" if value > limit else f"{value:,}"


def report(results: dict[int, dict[str, Heat]], n: int, rate: float, project: int) -> None:
    print(
        f"\n### Partition heat: {n:,} tasks a step at {rate:,.0f} tasks/s "
        f"(write units in the busiest second)\n"
    )
    print(
        "| step | N | busiest partition, WCU/s (limit 1,000) | busiest item, WCU/s | "
        "table, WCU/s (quota 40,000) | WCU per task |"
    )
    print("|---|---|---|---|---|---|")
    steps = list(next(iter(results.values())))
    for step in steps:
        for shards, heats in results.items():
            heat = heats[step]
            part, part_what = heat.busiest_partition()
            item, item_what = heat.busiest_item()
            print(
                f"| {step} | {shards} | {_mark(part, PARTITION_WCU)} ({part_what}) | "
                f"{_mark(item, PARTITION_WCU)} ({item_what}) | "
                f"{_mark(heat.busiest_second(), TABLE_WCU)} | {heat.units / heat.tasks:.2f} |"
            )
    minutes = project / rate / 60
    print(
        f"\nAt {rate:,.0f} tasks/s a step of a {project:,}-task project takes {minutes:.1f} min; "
        "its seconds are the ones above (see the docstring)."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=12_000, help="tasks driven through each step")
    parser.add_argument("--rate", type=float, default=1_200.0, help="target tasks per second")
    parser.add_argument("--shards", type=int, nargs="+", default=[16, 1])
    parser.add_argument("--project", type=int, default=1_000_000, help="project size reported")
    args = parser.parse_args()
    counter = ApiCounter().install()
    counter.recording = True
    from prelabel_local import dynamodb_local
    from prelabel_local.stack import local_credentials
    from prelabel_local.template_resources import load_template

    local_credentials()
    template = load_template(ROOT / "template.yaml")
    server = dynamodb_local.start(ROOT)
    try:
        results = {}
        for shards in args.shards:
            print(f"{args.tasks:,} tasks, N = {shards} ...", flush=True)
            results[shards] = measure(
                server.endpoint, counter, template, shards, args.tasks, args.rate
            )
    finally:
        server.stop()
        counter.uninstall()
    report(results, args.tasks, args.rate, args.project)


if __name__ == "__main__":
    main()
