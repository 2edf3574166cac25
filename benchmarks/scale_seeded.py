"""Scale at sizes too large to fill through the jobs (1M tasks: ~2.5 h of jobs on this machine):
the project is seeded straight into the tables, the views are timed as scale.py times them,
and the jobs are timed over a bounded part inside the large project, the export over a time box.

Seeding (`harness.seed_tasks`) writes what an import followed by a move to WAITING leaves,
with the product's own item shapes: a READY dataset through the dataset repository, each task
the item `task_item` makes (the import's task id, `task_id_for`), BatchWriteItem per shard
through TaskModel, and each shard's counters changed by the deltas the repository's own writes
apply. Not transactional (nothing else writes meanwhile). The pre-labels are
`harness.plant_prelabels`, as at every size, in chunks on WORKERS threads.

The jobs, through the API and the real state machines, inside the seeded project:
- import of `part` more images (a second dataset, its objects in moto's S3), then the move of
  all BACKLOG tasks (exactly those) to WAITING, then, once every task has its pre-label, the
  disconnect of that dataset (its tasks and their pre-labels deleted): each whole, timed;
- the COCO export of the whole project, stopped being watched after `time_box_s`: its progress
  per phase (names pass, then writing pass; the job's slices' records) is read every second,
  giving each pass's tasks/s while the box lasted (the names pass from the job's start, the
  writing pass from the names pass's end). The job is not cancelled (jobs have no
  cancel); it is the last thing measured and ends with the process.
Each job's per-slice rate is its tasks over the summed seconds of its finished slice steps
(scale_slices.SliceTimer), as in the parallel-slice tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from scale_slices import SliceTimer

from prelabel.container import Container
from prelabel.domain.entities import Dataset, ProjectRef
from prelabel.domain.imports import task_id_for
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi

# Pre-labels planted at a time (a multiple of every `queued_every`), and the threads writing
# tasks and pre-labels: DynamoDB Local takes batches on both cores.
CHUNK = 20_000
WORKERS = 4
BOXES = 5


@dataclass
class Seeded:
    dataset: Dataset
    task_ids: list[str]
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.task_ids) / self.seconds


def seed_tasks(c: Container, ref: ProjectRef, bucket: str, prefix: str, n: int) -> Seeded:
    """`n` WAITING tasks of a READY dataset of `prefix`, as an import and a move leave them."""
    began = time.perf_counter()
    dataset, ids = harness.seed_tasks(c, ref, bucket, prefix, n, workers=WORKERS)
    return Seeded(dataset, ids, time.perf_counter() - began)


def plant_prelabels(ref: ProjectRef, task_ids: list[str], *, queued_every: int = 0) -> float:
    """harness.plant_prelabels over chunks of `task_ids` in WORKERS threads (the chunks are
    multiples of `queued_every`: the same tasks are queued as in one call); its seconds."""
    began = time.perf_counter()
    chunks = [task_ids[i : i + CHUNK] for i in range(0, len(task_ids), CHUNK)]
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="seed") as pool:
        planting = partial(harness.plant_prelabels, boxes=BOXES, queued_every=queued_every)
        list(pool.map(lambda ids: planting(ref, ids), chunks))
    return time.perf_counter() - began


@dataclass
class JobRate:
    """A job timed over `tasks`: seconds, and the summed seconds of its finished slice steps."""

    tasks: int
    seconds: float
    slice_seconds: float
    slice_steps: int
    note: str = ""

    @property
    def rate(self) -> float:
        return self.tasks / self.seconds if self.seconds else 0.0

    @property
    def slice_rate(self) -> float:
        return self.tasks / self.slice_seconds if self.slice_seconds else 0.0


@dataclass
class SeededJobs:
    size: int
    part: int
    seed: Seeded | None = None
    prelabel_seconds: float = 0.0
    jobs: dict[str, JobRate] = field(default_factory=dict)


def measure(
    stack: Any,
    runner: SliceTimer,
    c: Container,
    api: InProcessApi,
    pid: str,
    n: int,
    args: Any,
    queued_every: int,
    time_views: Callable[[dict[str, Any], dict[str, Any]], None],
) -> SeededJobs:
    """The project `pid` filled to `n` tasks: all but `args.part` seeded, the part imported and
    moved by jobs, half the tasks pre-labeled; `time_views(dataset, move job)`; then every task
    pre-labeled, the part disconnected and the whole exported for `args.time_box_s`."""
    part = min(args.part, n)
    run = SeededJobs(n, part)
    ref = ProjectRef(api.org, pid)
    print(f"\n{n:,} tasks: seeding {n - part:,} ...", flush=True)
    run.seed = seed_tasks(c, ref, stack.bucket, f"{api.org}/images/", n - part)
    print(f"  seeded in {run.seed.seconds:.0f} s; importing {part:,} ...", flush=True)
    run.jobs["import"], dataset, part_ids = import_part(stack, runner, api, pid, part)
    run.jobs["move all (BACKLOG)"], moved = move_part(runner, api, pid, part)
    ids = sorted(run.seed.task_ids + part_ids)
    run.prelabel_seconds = plant_prelabels(ref, ids[::2], queued_every=queued_every)
    time_views(dataset, moved)
    run.prelabel_seconds += plant_prelabels(ref, ids[1::2])
    print("  disconnecting the part ...", flush=True)
    ds = dataset["dataset_id"]
    run.jobs["disconnect"] = disconnect_part(runner, api, pid, ds, part)
    print(f"  exporting, watched for {args.time_box_s:.0f} s ...", flush=True)
    run.jobs.update(export_boxed(c, runner, api, pid, args.time_box_s))
    return run


def timed_slices(runner: SliceTimer, tasks: int, run: Callable[[], Any]) -> tuple[JobRate, Any]:
    runner.reset()
    began = time.perf_counter()
    ended = run()
    seconds = time.perf_counter() - began
    return JobRate(tasks, seconds, runner.slice_seconds, runner.slice_steps), ended


def import_part(
    stack: Any, runner: SliceTimer, api: InProcessApi, pid: str, part: int
) -> tuple[JobRate, dict[str, Any], list[str]]:
    """`part` more images connected (an import job) into the large project: the job's rate,
    the dataset, and its task ids (as the import derives them)."""
    prefix = f"{api.org}/part/"
    harness.put_objects_in_process(
        stack.bucket, ((key, b"\xff\xd8jpeg") for key in harness.image_keys(prefix, part))
    )

    def connect() -> dict[str, Any]:
        body = {"bucket": stack.bucket, "prefix": prefix}
        started = api.json("POST", f"/projects/{pid}/datasets", body)
        dataset: dict[str, Any] = harness.wait_for_dataset(
            api, pid, started["dataset_id"], timeout=7200
        )
        assert dataset["task_count"] == part, dataset
        return dataset

    rate, dataset = timed_slices(runner, part, connect)
    ds = dataset["dataset_id"]
    ids = [task_id_for(ds, 0, stack.bucket, key) for key in harness.image_keys(prefix, part)]
    return rate, dataset, ids


def move_part(
    runner: SliceTimer, api: InProcessApi, pid: str, part: int
) -> tuple[JobRate, dict[str, Any]]:
    """Move all BACKLOG tasks (the imported part's, every other task is WAITING) to WAITING."""

    def move() -> dict[str, Any]:
        body = {"from": "BACKLOG", "to": "WAITING", "all": True}
        job = api.json("POST", f"/projects/{pid}/tasks/move", body)
        ended: dict[str, Any] = harness.wait_for_job(api, pid, job["job_id"], timeout=7200)
        assert ended["result"] == {"moved": part}, ended
        return ended

    return timed_slices(runner, part, move)


def disconnect_part(
    runner: SliceTimer, api: InProcessApi, pid: str, dataset_id: str, part: int
) -> JobRate:
    def disconnect() -> dict[str, Any]:
        job = api.json("DELETE", f"/projects/{pid}/datasets/{dataset_id}")
        ended: dict[str, Any] = harness.wait_for_job(api, pid, job["job_id"], timeout=7200)
        assert ended["result"] == {"removed": part}, ended
        return ended

    rate, _ = timed_slices(runner, part, disconnect)
    return rate


@dataclass
class Pass:
    """One pass of the export as watched: seconds from the job's start it began and ended at
    (None: not yet), and its finished slices' tasks."""

    began: float | None = None
    ended: float | None = None
    done: int = 0

    def watch(self, states: dict[int, Any], planned: int, now: float) -> None:
        self.done = sum(s.done for s in states.values() if s.finished)
        finished = sum(1 for s in states.values() if s.finished)
        if planned and finished == planned and self.ended is None:
            self.ended = now

    def rate(self, now: float, total: int) -> JobRate:
        seconds = 0.0 if self.began is None else (self.ended or now) - self.began
        whole = "whole pass" if self.ended is not None else f"its first {seconds:.0f} s"
        return JobRate(self.done, seconds, 0.0, 0, f"{self.done:,} of {total:,} tasks ({whole})")


def export_boxed(
    c: Container, runner: SliceTimer, api: InProcessApi, pid: str, time_box_s: float
) -> dict[str, JobRate]:
    """The COCO export started and watched for `time_box_s` (each second: its passes' slice
    records): each pass's tasks over the seconds it ran within the box. An export of one
    step (no slices) is timed whole."""
    runner.reset()
    began = time.perf_counter()
    job_id = api.json("GET", f"/projects/{pid}/export", query={"format": "coco"})["job_id"]
    passes = (Pass(began=0.0), Pass())
    while (now := time.perf_counter() - began) < time_box_s:
        for phase, watched in enumerate(passes):
            planned = len(c.jobs.plan(job_id, phase))
            watched.watch(c.jobs.slice_states(job_id, phase), planned, now)
        # The writing pass starts as the names pass ends (its merge included): a slice's
        # record appears only once its step has ended.
        passes[1].began = passes[0].ended
        job = api.json("GET", f"/projects/{pid}/jobs/{job_id}")
        total = int(job["progress"]["total"] or 0)
        if job["status"] != "RUNNING":
            break
        time.sleep(1.0)
    now = time.perf_counter() - began
    if not c.jobs.plan(job_id, 0) and job["status"] == "SUCCEEDED":
        return {"export (COCO, one step)": JobRate(total, now, 0.0, 0, "whole job")}
    out = {
        "export: names pass": passes[0].rate(now, total),
        "export: writing pass": passes[1].rate(now, total),
    }
    # Both passes' slice steps, timed together: their tasks over their summed seconds.
    for rate in out.values():
        rate.slice_seconds = runner.slice_seconds * rate.tasks / max(1, sum(p.done for p in passes))
        rate.slice_steps = runner.slice_steps
    return out


def report(runs: list[SeededJobs], time_box_s: float) -> None:
    for run in runs:
        print(f"\n### Seeded {run.size:,} tasks: jobs over a part of {run.part:,} inside them\n")
        if run.seed is not None:
            seeded = len(run.seed.task_ids)
            print(
                f"Seeded {seeded:,} tasks directly in {run.seed.seconds:.1f} s "
                f"({run.seed.rate:.0f}/s); pre-labels planted in {run.prelabel_seconds:.1f} s "
                f"({seeded / max(run.prelabel_seconds, 1e-9):.0f}/s). Export time box "
                f"{time_box_s:.0f} s.\n"
            )
        print("| job | tasks | seconds | tasks/s | per-slice tasks/s | slice steps | what |")
        print("|---|---|---|---|---|---|---|")
        for name, r in run.jobs.items():
            print(
                f"| {name} | {r.tasks:,} | {r.seconds:.1f} | {r.rate:.0f} | "
                f"{r.slice_rate:.0f} | {r.slice_steps} | {r.note} |"
            )
