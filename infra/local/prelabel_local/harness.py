"""What tests, the demo and the benchmarks do to a local stack, written once.

- `seed_organization`: what an operator does for a new customer (out of band, no API).
- `put_objects`: files landing in S3 (moto's S3 at AWS_ENDPOINT_URL_S3); `put_objects_in_process`
  the same straight into moto's backend when the server runs in this process.
- `ApiClient`: anything that calls the HTTP API as one user (in-process or over HTTP); and over
  it `create_project`, `connect_dataset` (an import job, waited for), `move_tasks` (all of a
  state is a job, waited for), `wait_for_job`, `export_link`, `all_tasks`, `start_run`.
- `wait_until`: poll until a condition holds (never a fixed sleep).
- `plant_prelabels`: what runs would have left, written straight into the tables; `seed_tasks`
  the same of an import and a move (a project of 1,000,000 tasks in minutes, not hours).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import boto3

from prelabel.container import Container
from prelabel.domain.entities import ProjectRef
from prelabel.domain.plans import Plan

if TYPE_CHECKING:
    from prelabel.adapters.dynamodb.keys import Shard
    from prelabel.domain.entities import Dataset, Task

T = TypeVar("T")
# Tasks seed_tasks builds and writes at a time: bounds its memory at any size.
SEED_CHUNK = 20_000
ACTIVE_RUN = ("RUNNING", "STOPPING")


class ApiError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path}: HTTP {status} {str(body)[:300]}")
        self.status = status
        self.body = body


class ApiClient(Protocol):
    def json(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
    ) -> Any:
        """The decoded answer; ApiError on a status of 400 or more."""


def seed_organization(
    c: Container,
    org_id: str,
    *,
    plan: Plan = Plan.TEAM_PRO,
    remaining: int | None = None,
    name: str | None = None,
    period: str | None = None,
) -> None:
    """What an operator does (prelabel-admin org create / limit set-remaining): the
    organization on `plan`; `remaining` sets this month's AI assistance left."""
    admin = c.organization_admin
    admin.create(org_id, name or org_id, plan, period=period)
    if remaining is not None:
        admin.set_remaining(org_id, remaining)


def put_objects(bucket: str, objects: Iterable[tuple[str, bytes]]) -> int:
    s3 = boto3.client("s3")
    n = 0
    for key, body in objects:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        n += 1
    return n


def put_objects_in_process(bucket: str, objects: Iterable[tuple[str, bytes]]) -> int:
    """Objects written straight into the moto server running in this process (the local stack,
    tests, benchmarks): ~50x faster than PUTs over HTTP, for datasets of 10,000s of images."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
    n = 0
    for key, body in objects:
        backend.put_object(bucket, key, body)
        n += 1
    return n


def wait_until(
    check: Callable[[], T | None],
    *,
    what: str,
    timeout: float = 120.0,
    interval: float = 0.2,
) -> T:
    """`check()`'s first value that is not None (or False); TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


def create_project(api: ApiClient, name: str, label_config: list[dict[str, Any]]) -> str:
    project: dict[str, Any] = api.json(
        "POST", "/projects", {"name": name, "label_config": label_config}
    )
    return str(project["project_id"])


def wait_for_job(api: ApiClient, project_id: str, job_id: str, timeout: float = 300.0) -> Any:
    """The job once it has ended (SUCCEEDED or FAILED)."""

    def ended() -> dict[str, Any] | None:
        job: dict[str, Any] = api.json("GET", f"/projects/{project_id}/jobs/{job_id}")
        return None if job["status"] == "RUNNING" else job

    return wait_until(ended, what=f"job {job_id}", timeout=timeout, interval=0.2)


def wait_for_dataset(
    api: ApiClient, project_id: str, dataset_id: str, timeout: float = 300.0
) -> dict[str, Any]:
    """The dataset once no job works on it (READY or FAILED) and that job has ended too: the
    job's last step settles the dataset first, then ends the job (so a crash between the two
    leaves a running job that a rerun finishes), and a read may fall between them."""

    def settled() -> dict[str, Any] | None:
        dataset: dict[str, Any] = api.json("GET", f"/projects/{project_id}/datasets/{dataset_id}")
        if dataset["status"] in ("IMPORTING", "REMOVING"):
            return None
        job = dataset.get("job")
        return None if job and job["status"] == "RUNNING" else dataset

    return wait_until(settled, what=f"dataset {dataset_id}", timeout=timeout, interval=0.2)


def connect_dataset(
    api: ApiClient,
    project_id: str,
    bucket: str,
    prefix: str | None = None,
    *,
    manifest_key: str | None = None,
    manifest_format: str | None = None,
    wait: bool = True,
    timeout: float = 300.0,
) -> dict[str, Any]:
    """Connect (202, IMPORTING) and, with `wait`, the dataset once its import has ended."""
    body: dict[str, Any] = {"bucket": bucket}
    if manifest_key is not None:
        body |= {"manifest_key": manifest_key, "manifest_format": manifest_format}
    elif prefix is not None:
        body["prefix"] = prefix
    dataset: dict[str, Any] = api.json("POST", f"/projects/{project_id}/datasets", body)
    if not wait:
        return dataset
    return wait_for_dataset(api, project_id, dataset["dataset_id"], timeout)


def move_tasks(
    api: ApiClient,
    project_id: str,
    task_ids: list[str] | None = None,
    *,
    source: str = "BACKLOG",
    target: str = "WAITING",
    timeout: float = 300.0,
) -> int:
    """How many moved: the named ids (1,000 a call), or all of `source` through a job."""
    path = f"/projects/{project_id}/tasks/move"
    body: dict[str, Any] = {"from": source, "to": target}
    if task_ids is None:
        job = api.json("POST", path, body | {"all": True})
        ended = wait_for_job(api, project_id, job["job_id"], timeout)
        if ended["status"] != "SUCCEEDED":
            raise RuntimeError(f"moving all {source} tasks failed: {ended['error']}")
        return int(ended["result"]["moved"])
    moved = 0
    for start in range(0, len(task_ids), 1000):
        chunk = task_ids[start : start + 1000]
        moved += int(api.json("POST", path, body | {"task_ids": chunk})["moved"])
    return moved


def export_link(
    api: ApiClient, project_id: str, fmt: str, timeout: float = 600.0
) -> dict[str, Any]:
    """Start an export job, wait for its file, and return the link (`url`, `summary`, ...)."""
    path = f"/projects/{project_id}/export"
    job = api.json("GET", path, query={"format": fmt})

    def ready() -> dict[str, Any] | None:
        reply: dict[str, Any] = api.json(
            "GET", path, query={"format": fmt, "job_id": job["job_id"]}
        )
        return reply if "url" in reply else None

    return wait_until(ready, what=f"the {fmt} export", timeout=timeout, interval=0.3)


def iter_tasks(api: ApiClient, project_id: str, **query: str) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        params = {"limit": "200", **query} | ({"cursor": cursor} if cursor else {})
        page = api.json("GET", f"/projects/{project_id}/tasks", query=params)
        yield from page["tasks"]
        cursor = page["cursor"]
        if not cursor:
            return


def all_tasks(api: ApiClient, project_id: str, **query: str) -> list[dict[str, Any]]:
    return list(iter_tasks(api, project_id, **query))


def start_run(api: ApiClient, project_id: str, *, confirm: bool = True) -> dict[str, Any]:
    reply: dict[str, Any] = api.json("POST", f"/projects/{project_id}/runs", {"confirm": confirm})
    return reply


def current_run(api: ApiClient, project_id: str) -> dict[str, Any]:
    run: dict[str, Any] = api.json("GET", f"/projects/{project_id}/runs/current")
    return run


def wait_for_run_end(api: ApiClient, project_id: str, timeout: float = 240.0) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        run = current_run(api, project_id)
        return None if run["status"] in ACTIVE_RUN else run

    return wait_until(ended, what=f"the run of {project_id} to end", timeout=timeout, interval=0.3)


def _queue_key(task_id: str) -> str:
    from prelabel.quality.priority import review_priority

    margin = 0.001 + (sum(map(ord, task_id)) % 19) / 1000
    return f"{review_priority([(0.5 + margin, 0.5)]).key}{task_id}"


def plant_prelabels(
    ref: ProjectRef, task_ids: list[str], boxes: int, *, queued_every: int = 0
) -> None:
    """What runs would have left on WAITING tasks, written straight into the tables (for
    10,000s of tasks, where running the workflow would take hours): each task a pre-label of
    `boxes` cars as Vehicle (entry `veh`), and the counters. With `queued_every` = k, every
    k-th task's pre-label is also in the review queue (a box 0.001 to 0.019 above its
    threshold), as a run's commit would have put it."""
    from prelabel.adapters.dynamodb.counts import counter_actions, counts_item
    from prelabel.adapters.dynamodb.label_codec import encode_labels, encode_model
    from prelabel.adapters.dynamodb.models import PrelabelModel
    from prelabel.adapters.dynamodb.shards import read_layout
    from prelabel.domain.entities import Box, Label, PrelabelState

    labels = encode_labels(
        [
            Label(f"l{i}", "veh", "Vehicle", Box(i, i, i + 10.5, i + 20.25), "car", 0.9, "m", "1")
            for i in range(boxes)
        ]
    )
    queued = set(task_ids[::queued_every]) if queued_every else set()
    layout = read_layout(ref)
    for shard, ids in layout.group(task_ids).items():
        with PrelabelModel.batch_write() as batch:
            for task_id in ids:
                batch.save(
                    PrelabelModel(
                        shard.outcome_key(PrelabelState.DONE),
                        task_id,
                        run_id="run_planted",
                        width=640,
                        height=480,
                        model=encode_model("m", "1"),
                        labels=labels,
                        review=_queue_key(task_id) if task_id in queued else None,
                    )
                )
        deltas = {"prelabeled": len(ids), "eligible": -len(ids)}
        counts_item(shard).update(actions=counter_actions(deltas))


def image_keys(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:07d}.jpg" for i in range(n)]


def seed_tasks(
    c: Container, ref: ProjectRef, bucket: str, prefix: str, n: int, *, workers: int = 4
) -> tuple[Dataset, list[str]]:
    """What an import of `n` images under `prefix` (`image_keys`; the objects need not exist)
    and a move of all to WAITING would have left, written straight into the tables (for
    1,000,000s of tasks, where the jobs would take hours): a READY dataset (the dataset
    repository's item), its tasks as the import names and writes them (`task_id_for`,
    `task_item`) but WAITING, and each shard's counters changed by the deltas the repository's
    writes apply. Batch writes, not transactions: nothing else may write the project meanwhile.
    The dataset and the task ids, in `image_keys`' order."""
    from concurrent.futures import ThreadPoolExecutor

    from prelabel.adapters.dynamodb.shards import read_layout
    from prelabel.domain.entities import Dataset, LabelingState, Task
    from prelabel.domain.ids import new_id, now_iso
    from prelabel.domain.imports import task_id_for

    dataset = Dataset(ref, new_id("ds"), bucket, prefix, n, now_iso())
    c.datasets.create(dataset)
    keys = image_keys(prefix, n)
    layout = read_layout(ref)
    created = now_iso()
    ids: list[str] = []
    with ThreadPoolExecutor(workers, thread_name_prefix="seed") as pool:
        for start in range(0, len(keys), SEED_CHUNK):
            chunk: dict[str, Task] = {}
            for key in keys[start : start + SEED_CHUNK]:
                task_id = task_id_for(dataset.dataset_id, dataset.generation, bucket, key)
                chunk[task_id] = Task(
                    ref,
                    task_id,
                    dataset.dataset_id,
                    bucket,
                    key,
                    LabelingState.WAITING,
                    created_at=created,
                )
            groups = [(s, [chunk[t] for t in group]) for s, group in layout.group(chunk).items()]
            list(pool.map(lambda g: _write_shard(*g), groups))
            ids.extend(chunk)
    return dataset, ids


def _write_shard(shard: Shard, tasks: list[Task]) -> None:
    from prelabel.adapters.dynamodb.counts import counter_actions, counts_item
    from prelabel.adapters.dynamodb.models import TaskModel
    from prelabel.adapters.dynamodb.task_items import task_item
    from prelabel.adapters.dynamodb.tasks import deltas_of_new

    with TaskModel.batch_write() as batch:
        for task in tasks:
            batch.save(task_item(shard, task))
    counts_item(shard).update(actions=counter_actions(deltas_of_new(tasks)))
