"""Jobs in parallel slices on the local stack: the same project's import (8 folders), move of
every task (a slice per shard), COCO export (8 task-id slices, names then file) and disconnect
(a slice per shard), run with 1, 2 and 4 slices at once (the jobs' Map MaxConcurrency).

Per job: the wall time, tasks/s, the number of slices, and each slice's own rate: tasks per
second of its steps' time (the sum of the slice steps' durations, timed around the handler in
moto's threads), which is what one slice does while it runs. The speed-up is the job's time
with 1 slice at once over its time with 2 or 4.

What the local stack can and cannot show: every Lambda runs in this one Python process (one
GIL), and DynamoDB Local (Java) and moto share the same 2 cores; slices at once overlap their
waits on DynamoDB Local, not their Python work. So the speed-up here is bounded by those cores,
and the per-slice rate at 1 at once is the figure that carries over to AWS, where each slice is
a Lambda of its own and each shard's partitions take ~1,000 writes/s.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from prelabel.container import Container, use_container
from prelabel.domain.entities import LabelingState, ProjectRef
from prelabel.services.jobs.context import StepLimits
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi
from prelabel_local.lambdas import LambdaRunner

FOLDERS = 8
BOXES = 5
CONFIG = [{"id": "veh", "name": "Vehicle", "geometry": "bbox"}]


class SliceTimer(LambdaRunner):
    """The stack's runner, also timing each slice step of the jobs' Map (the step function's
    invocations whose event names a slice)."""

    def __init__(self) -> None:
        super().__init__()
        self.slice_seconds = 0.0
        self.slice_steps = 0
        self._timing = threading.Lock()

    def run(self, name: str, body: Any, response_headers: dict[str, str]) -> bytes:
        started = time.perf_counter()
        try:
            return super().run(name, body, response_headers)
        finally:
            raw = body.decode() if isinstance(body, bytes) else str(body or "")
            if name == "JobStepFunction" and '"slice"' in raw:
                with self._timing:
                    self.slice_seconds += time.perf_counter() - started
                    self.slice_steps += 1

    def reset(self) -> None:
        with self._timing:
            self.slice_seconds, self.slice_steps = 0.0, 0


@dataclass
class JobFigure:
    seconds: float
    tasks: int
    slices: int
    slice_seconds: float

    @property
    def rate(self) -> float:
        return self.tasks / self.seconds

    @property
    def slice_rate(self) -> float:
        return self.tasks / self.slice_seconds if self.slice_seconds else 0.0


@dataclass
class AtOnce:
    at_once: int
    jobs: dict[str, JobFigure] = field(default_factory=dict)


def _timed(
    runner: SliceTimer, c: Container, n: int, phase: int, run: Any
) -> tuple[JobFigure, dict[str, Any]]:
    runner.reset()
    began = time.perf_counter()
    job = run()
    seconds = time.perf_counter() - began
    slices = len(c.jobs.plan(job["job_id"], phase))
    return JobFigure(seconds, n, slices, runner.slice_seconds), job


def measure(stack: Any, runner: SliceTimer, n: int, at_once: int) -> AtOnce:
    """One project of `n` images, its four jobs with `at_once` slices at once."""
    figures = AtOnce(at_once)
    org = f"slices-{n}-{at_once}"
    per_slice = max(1, n // FOLDERS)
    limits = StepLimits(slices_at_once=at_once, slice_tasks=per_slice, export_slice_tasks=per_slice)
    c = Container(stack.settings).override(step_limits=limits)
    use_container(c)
    harness.seed_organization(c, org, remaining=10)
    api = InProcessApi(org)
    pid = harness.create_project(api, f"Slices {n} x{at_once}", CONFIG)
    prefix = f"{org}/images/"
    harness.put_objects_in_process(
        stack.bucket,
        ((f"{prefix}cam{i % FOLDERS}/{i:07d}.jpg", b"\xff\xd8jpeg") for i in range(n)),
    )

    def connect() -> dict[str, Any]:
        body = {"bucket": stack.bucket, "prefix": prefix}
        started = api.json("POST", f"/projects/{pid}/datasets", body)
        dataset = harness.wait_for_dataset(api, pid, started["dataset_id"], timeout=7200)
        assert dataset["task_count"] == n, dataset
        return {"job_id": started["job"]["job_id"], "dataset_id": started["dataset_id"]}

    figures.jobs["import"], imported = _timed(runner, c, n, 0, connect)
    figures.jobs["move all"], _ = _timed(runner, c, n, 0, lambda: _move(api, pid, n))
    ref = ProjectRef(org, pid)
    harness.plant_prelabels(ref, sorted(c.tasks.ids_in_state(ref, LabelingState.WAITING)), BOXES)
    figures.jobs["export (COCO)"], _ = _timed(runner, c, n, 1, lambda: _export(api, pid, n))
    path = f"/projects/{pid}/datasets/{imported['dataset_id']}"
    figures.jobs["disconnect"], _ = _timed(runner, c, n, 0, lambda: _disconnect(api, pid, path, n))
    use_container(None)
    return figures


def _move(api: InProcessApi, pid: str, n: int) -> dict[str, Any]:
    body = {"from": "BACKLOG", "to": "WAITING", "all": True}
    job = api.json("POST", f"/projects/{pid}/tasks/move", body)
    ended: dict[str, Any] = harness.wait_for_job(api, pid, job["job_id"], timeout=7200)
    assert ended["result"] == {"moved": n}, ended
    return ended


def _export(api: InProcessApi, pid: str, n: int) -> dict[str, Any]:
    link = harness.export_link(api, pid, "coco", timeout=7200)
    summary = link["summary"]
    assert (summary["images"], summary["annotations"]) == (n, n * BOXES), link
    return {"job_id": link["job_id"]}


def _disconnect(api: InProcessApi, pid: str, path: str, n: int) -> dict[str, Any]:
    job = api.json("DELETE", path)
    ended: dict[str, Any] = harness.wait_for_job(api, pid, job["job_id"], timeout=7200)
    assert ended["result"] == {"removed": n}, ended
    return ended


def report(n: int, runs: list[AtOnce]) -> None:
    print(f"\n### Jobs in parallel slices ({n:,} tasks; seconds, tasks/s, per-slice tasks/s)\n")
    head = " | ".join(f"{r.at_once} at once" for r in runs)
    ups = " / ".join(f"{r.at_once} at once" for r in runs[1:])
    print(f"| job | slices | {head} | speed-up {ups} |")
    print("|---" * (len(runs) + 3) + "|")
    for job in runs[0].jobs:
        base = runs[0].jobs[job]
        cells = " | ".join(
            f"{r.jobs[job].seconds:.1f} s; {r.jobs[job].rate:.0f}/s; "
            f"{r.jobs[job].slice_rate:.0f}/s a slice"
            for r in runs
        )
        ups = " / ".join(f"{base.seconds / r.jobs[job].seconds:.2f}x" for r in runs[1:])
        print(f"| {job} | {base.slices} | {cells} | {ups} |")
    print(json.dumps({r.at_once: {j: vars(f) for j, f in r.jobs.items()} for r in runs}))
