"""Scale: the same project at 1k, 10k and 100k tasks on the local stack (and 1M, seeded); what
each request costs and how each job goes.

Run: .venv/bin/python benchmarks/scale.py [--sizes 1000 10000 100000] [--samples 50] [--shards 16]
     [--slice-sizes 20000] [--at-once 1 2 4] [--seeded 1000000 [--part 20000] [--time-box-s 300]]

For each size, on the whole local stack in this process (prelabel_local.stack.LocalStack:
DynamoDB Local, moto executing the real ASLs with the real handlers):

1. the images are put straight into moto's S3, then connected (an import job), all tasks moved
   to WAITING (a job), half of them given pre-labels of 5 boxes (written directly, as runs
   would have left them; one in five of those in the review queue);
2. each request the UI makes is timed `--samples` times through the API handler (p50, p99)
   with the DynamoDB requests it makes and the items they read: the assistant view, a task page
   unfiltered, by state, pre-labeled and not, in review order, the dataset, a job, and the
   start-run answer (the "only X of Y" confirmation: every read start makes before it starts
   anything);
3. the rest get their pre-labels, then the jobs are timed: import and move (above), export
   (COCO, every task with 5 boxes) and disconnect, each in tasks/s and DynamoDB requests per
   task (counted in the job's own Lambda threads, not the benchmark's polling);
4. the export's memory: the same export written into a null sink under tracemalloc (the job
   streams into an S3 multipart upload, which holds one 8 MiB part besides);
5. jobs in parallel slices (benchmarks/scale_slices.py): for each of `--slice-sizes`, a
   project's import (8 folders), move, export and disconnect with 1, 2 and 4 slices at once:
   tasks/s, each slice's own rate, and the speed-up (`--sizes` may be empty to run only this).

6. `--seeded` sizes (benchmarks/scale_seeded.py; run last, after the others): the project
   filled straight into the tables with the product's item shapes (harness.seed_tasks: all but
   `--part` tasks, WAITING; then the pre-labels as in 1.), the `--part` imported and moved by
   the jobs, the requests of 2. timed, then that part disconnected (a job) and the whole
   project's COCO export watched for `--time-box-s` (each pass's tasks/s while it ran; the
   export is left running and the process exits). `--sizes 1000 --slice-sizes --seeded
   1000000` gives the 1M/1k ratio of every request in one run (~35 min on this machine).

Projects are made with `--shards` task shards (TASK_SHARDS; 16, as the API makes them): a page
then merges 16 sorted queries (their first pages fetched in parallel threads) and the counts are
one BatchGetItem of 16 items. A request's DynamoDB requests are counted on every thread (no job
runs while requests are timed); a job's on every thread but the benchmark's own.

Prints tables and the 100k/1k ratio of each request (target: 2x at most). Asserts nothing.
DynamoDB Local runs every request on this machine's 2 cores: absolute times are far above
DynamoDB's; the ratios, request counts and memory are what carry over.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import threading
import time
import traceback
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import scale_seeded
import scale_slices
from _common import ApiCounter

from prelabel.container import Container, use_container
from prelabel.domain.entities import LabelingState, ProjectRef
from prelabel.export_formats import ExportFormat
from prelabel.services.jobs.export_step import ExportWriter
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi

ORG = "scale-org"
CONFIG = [{"id": "veh", "name": "Vehicle", "geometry": "bbox"}]
MAPPING = {"rows": [{"detector_class": "car", "entry_id": "veh"}]}
BOXES = 5
# One pre-label in 5 in the review queue (a box near its threshold), as a run's commits leave
# about a fifth of a project's images (docs/quality.md).
QUEUED_EVERY = 5
SHARD_READERS = "prelabel-shard-read"
# How long the stack may take to stop (DynamoDB Local first of all) when a seeded size's export
# is still running.
STOP_WAIT_S = 60


class ThreadCounter(ApiCounter):
    """ApiCounter that also notes the thread: jobs run in moto's server threads, the
    benchmark's own calls (and polling) in the main thread."""

    def _before(self, event_name: str, model: Any, params: Any, context: Any, **kw: Any) -> None:
        super()._before(event_name, model, params, context, **kw)
        call = context.get("_bench_call")
        if call is not None:
            call.params["_thread"] = threading.current_thread().name

    def _mine(self, job_threads: bool) -> list[Any]:
        """A request's shard queries run in the shard-read pool (shards.merged): they are the
        request's while requests are timed, and a job's while jobs are (the two never overlap;
        the polling of a job makes no shard query)."""
        main = threading.main_thread().name

        def mine(call: Any) -> bool:
            thread = str(call.params.get("_thread"))
            if thread.startswith(SHARD_READERS):
                return True  # of whichever kind is being timed
            return (thread != main) == job_threads

        return [c for c in self.of("dynamodb") if mine(c)]

    def ddb(self, *, job_threads: bool) -> int:
        return len(self._mine(job_threads))

    def items_read(self, *, job_threads: bool) -> int:
        return sum(c.items for c in self._mine(job_threads))

    def items_written(self, *, job_threads: bool) -> int:
        """Items a job wrote: each of a transaction's, each of a batch's, one per single write
        (a transactional write costs twice a plain one's units)."""
        n = 0
        for c in self._mine(job_threads):
            if c.operation == "TransactWriteItems":
                n += len(c.params.get("TransactItems", []))
            elif c.operation == "BatchWriteItem":
                n += sum(len(v) for v in c.params.get("RequestItems", {}).values())
            elif c.operation in ("PutItem", "UpdateItem", "DeleteItem"):
                n += 1
        return n


@dataclass
class Size:
    tasks: int
    latency: dict[str, list[float]] = field(default_factory=dict)
    requests: dict[str, float] = field(default_factory=dict)
    items: dict[str, float] = field(default_factory=dict)
    # seconds, tasks/s, DynamoDB requests per task, items written per task
    jobs: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    answers: dict[str, float] = field(default_factory=dict)
    export_peak: int = 0
    export_bytes: int = 0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_job(
    counter: ThreadCounter, tasks: int, start: Callable[[], Any], wait: Callable[[Any], Any]
) -> tuple[tuple[float, float, float, float], float, Any]:
    """(seconds, tasks/s, DynamoDB requests and items written per task) of a job, its answer
    time, and its end."""
    counter.calls.clear()
    counter.recording = True
    began = time.perf_counter()
    handle = start()
    answered = time.perf_counter() - began
    ended = wait(handle)
    seconds = time.perf_counter() - began
    counter.recording = False
    per_task = counter.ddb(job_threads=True) / max(1, tasks)
    written = counter.items_written(job_threads=True) / max(1, tasks)
    return (seconds, tasks / seconds, per_task, written), answered, ended


def measure_size(stack: Any, counter: ThreadCounter, n: int, samples: int, shards: int) -> Size:
    size = Size(n)
    org = f"{ORG}-{n}"
    c = Container(stack.settings.model_copy(update={"task_shards": shards}))
    use_container(c)
    harness.seed_organization(c, org, remaining=10)
    api = InProcessApi(org)
    pid = harness.create_project(api, f"Scale {n}", CONFIG)
    ref = ProjectRef(org, pid)
    dataset, moved = _import_and_move(stack, counter, api, pid, size)
    ids = sorted(c.tasks.ids_in_state(ref, LabelingState.WAITING))
    harness.plant_prelabels(ref, ids[::2], BOXES, queued_every=QUEUED_EVERY)
    api.json("PUT", f"/projects/{pid}/mapping", MAPPING)

    _time_views(api, counter, size, samples, pid, dataset, moved)

    harness.plant_prelabels(ref, ids[1::2], BOXES)
    print("  exporting ...", flush=True)
    _export(counter, api, pid, size)
    _export_memory(c, ref, size)

    print("  disconnecting ...", flush=True)
    size.jobs["disconnect"], size.answers["disconnect"], removed = timed_job(
        counter,
        n,
        lambda: api.json("DELETE", f"/projects/{pid}/datasets/{dataset['dataset_id']}"),
        lambda j: harness.wait_for_job(api, pid, j["job_id"], timeout=7200),
    )
    assert removed["result"] == {"removed": n}, removed
    use_container(None)
    return size


def measure_seeded(
    stack: Any,
    counter: ThreadCounter,
    runner: scale_slices.SliceTimer,
    n: int,
    args: argparse.Namespace,
) -> tuple[Size, scale_seeded.SeededJobs]:
    """A project of `n` tasks, all but `--part` seeded (scale_seeded.measure), the requests
    timed as at every size."""
    size = Size(n)
    org = f"{ORG}-seeded-{n}"
    c = Container(stack.settings.model_copy(update={"task_shards": args.shards}))
    use_container(c)
    harness.seed_organization(c, org, remaining=10)
    api = InProcessApi(org)
    pid = harness.create_project(api, f"Scale {n} seeded", CONFIG)
    api.json("PUT", f"/projects/{pid}/mapping", MAPPING)

    def views(dataset: dict[str, Any], moved: dict[str, Any]) -> None:
        _time_views(api, counter, size, args.samples, pid, dataset, moved)

    run = scale_seeded.measure(stack, runner, c, api, pid, n, args, QUEUED_EVERY, views)
    use_container(None)
    return size, run


def _time_views(
    api: InProcessApi,
    counter: ThreadCounter,
    size: Size,
    samples: int,
    pid: str,
    dataset: dict[str, Any],
    moved: dict[str, Any],
) -> None:
    print("  timing requests ...", flush=True)
    for name, (method, path, query, body) in _requests(pid, dataset, moved).items():
        _time_request(api, counter, size, samples, name, method, path, query, body)
    assert api.json("POST", f"/projects/{pid}/runs", {"confirm": False})["confirmation_required"]


def _import_and_move(
    stack: Any, counter: ThreadCounter, api: InProcessApi, pid: str, size: Size
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The images put into S3, connected (an import job) and moved to WAITING (a job)."""
    n = size.tasks
    prefix = f"{api.org}/images/"
    harness.put_objects_in_process(
        stack.bucket, ((f"{prefix}{i:07d}.jpg", b"\xff\xd8jpeg") for i in range(n))
    )
    print(f"\n{n:,} tasks: importing ...", flush=True)

    def connect() -> Any:
        return api.json(
            "POST", f"/projects/{pid}/datasets", {"bucket": stack.bucket, "prefix": prefix}
        )

    size.jobs["import"], size.answers["connect"], dataset = timed_job(
        counter,
        n,
        connect,
        lambda d: harness.wait_for_dataset(api, pid, d["dataset_id"], timeout=7200),
    )
    assert dataset["task_count"] == n, dataset
    print("  moving all to WAITING ...", flush=True)
    move_path = f"/projects/{pid}/tasks/move"
    size.jobs["move all"], size.answers["move all"], moved = timed_job(
        counter,
        n,
        lambda: api.json("POST", move_path, {"from": "BACKLOG", "to": "WAITING", "all": True}),
        lambda j: harness.wait_for_job(api, pid, j["job_id"], timeout=7200),
    )
    assert moved["result"] == {"moved": n}, moved
    return dataset, moved


def _requests(
    pid: str, dataset: dict[str, Any], moved: dict[str, Any]
) -> dict[str, tuple[str, str, dict[str, str] | None, Any]]:
    """The requests the UI makes: (method, path, query, body) by name."""
    tasks = f"/projects/{pid}/tasks"
    return {
        "assistant view": ("GET", f"/projects/{pid}/assistant", None, None),
        "task page": ("GET", tasks, {"limit": "50"}, None),
        "page: state=WAITING": ("GET", tasks, {"limit": "50", "state": "WAITING"}, None),
        "page: prelabeled=true": ("GET", tasks, {"limit": "50", "prelabeled": "true"}, None),
        "page: prelabeled=false": ("GET", tasks, {"limit": "50", "prelabeled": "false"}, None),
        "page: order=review": ("GET", tasks, {"limit": "50", "order": "review"}, None),
        "dataset": ("GET", f"/projects/{pid}/datasets/{dataset['dataset_id']}", None, None),
        "job": ("GET", f"/projects/{pid}/jobs/{moved['job_id']}", None, None),
        "start-run answer": ("POST", f"/projects/{pid}/runs", None, {"confirm": False}),
    }


def _time_request(
    api: InProcessApi,
    counter: ThreadCounter,
    size: Size,
    samples: int,
    name: str,
    method: str,
    path: str,
    query: dict[str, str] | None,
    body: Any,
) -> None:
    times = []
    counter.calls.clear()
    counter.recording = True
    for _ in range(samples):
        began = time.perf_counter()
        reply = api.call(method, path, body, query)
        times.append(time.perf_counter() - began)
        assert reply.status < 400, (name, reply.body)
    counter.recording = False
    size.latency[name] = times
    size.requests[name] = counter.ddb(job_threads=False) / samples
    size.items[name] = counter.items_read(job_threads=False) / samples


def _export(counter: ThreadCounter, api: InProcessApi, pid: str, size: Size) -> None:
    """The COCO export job, timed until its file's link answers."""
    export_path = f"/projects/{pid}/export"

    def file_link(job: dict[str, Any]) -> Any:
        def ready() -> Any:
            query = {"format": "coco", "job_id": job["job_id"]}
            reply = api.call("GET", export_path, None, query)
            return reply.body if reply.status == 200 else None

        return harness.wait_until(ready, what="the export", timeout=7200, interval=0.5)

    size.jobs["export (COCO)"], size.answers["export"], link = timed_job(
        counter,
        size.tasks,
        lambda: api.json("GET", export_path, query={"format": "coco"}),
        file_link,
    )
    assert link["summary"]["annotations"] == size.tasks * BOXES, link


class NullSink:
    written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return len(data)


def _export_memory(c: Container, ref: ProjectRef, size: Size) -> None:
    """The same export written into a null sink under tracemalloc."""
    sink = NullSink()
    tracemalloc.start()
    ExportWriter(c.projects, c.tasks).write(
        ref,
        ExportFormat.COCO,
        sink,  # type: ignore[arg-type]
        "now",
        locations=c.locations.locations(ref.org_id),
    )
    size.export_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    size.export_bytes = sink.written


def report(sizes: list[Size], shards: int) -> None:
    names = list(sizes[0].latency)
    head = " | ".join(f"{s.tasks:,} p50 / p99 ms" for s in sizes)
    print(
        f"\n### Requests, N = {shards} task shards "
        "(ms through the API handler; DynamoDB requests and items read per call)\n"
    )
    growth = sizes[-1].tasks // sizes[0].tasks
    print(f"| request | {head} | DynamoDB req | items read | p50 ratio at {growth}x tasks |")
    print("|---" * (len(sizes) + 4) + "|")
    for name in names:
        cells = " | ".join(
            f"{1000 * pct(s.latency[name], 0.5):.1f} / {1000 * pct(s.latency[name], 0.99):.1f}"
            for s in sizes
        )
        reqs = " / ".join(f"{s.requests[name]:.1f}" for s in sizes)
        items = " / ".join(f"{s.items[name]:.0f}" for s in sizes)
        ratio = statistics.median(sizes[-1].latency[name]) / statistics.median(
            sizes[0].latency[name]
        )
        print(f"| {name} | {cells} | {reqs} | {items} | {ratio:.2f}x |")
    sizes = [s for s in sizes if s.jobs]  # a seeded size's jobs have tables of their own
    if not sizes:
        return
    print("\n### Jobs (seconds; tasks/s; DynamoDB requests and items written per task)\n")
    print("| job | " + " | ".join(f"{s.tasks:,} tasks" for s in sizes) + " |")
    print("|---" * (len(sizes) + 1) + "|")
    for job in sizes[0].jobs:
        cells = " | ".join(
            f"{s.jobs[job][0]:.1f} s; {s.jobs[job][1]:.0f}/s; {s.jobs[job][2]:.3f} req; "
            f"{s.jobs[job][3]:.2f} items"
            for s in sizes
        )
        print(f"| {job} | {cells} |")
    print("\n### Answers of the requests that start jobs (ms)\n")
    print("| request | " + " | ".join(f"{s.tasks:,}" for s in sizes) + " |")
    print("|---" * (len(sizes) + 1) + "|")
    for name in sizes[0].answers:
        print(f"| {name} | " + " | ".join(f"{1000 * s.answers[name]:.0f}" for s in sizes) + " |")
    print("\n### Export memory (COCO, 5 boxes a task, tracemalloc peak of the writer)\n")
    print("| tasks | file MB | peak MiB |")
    print("|---|---|---|")
    for s in sizes:
        print(f"| {s.tasks:,} | {s.export_bytes / 1e6:.1f} | {s.export_peak / 2**20:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--shards", type=int, default=16, help="task shards of each project")
    parser.add_argument("--slice-sizes", type=int, nargs="*", default=[20_000])
    parser.add_argument("--at-once", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seeded", type=int, nargs="*", default=[], help="sizes seeded directly")
    parser.add_argument("--part", type=int, default=20_000, help="a seeded size's jobs' part")
    parser.add_argument("--time-box-s", type=float, default=300.0, help="a seeded export's box")
    args = parser.parse_args()
    for noisy in ("werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # a line per job step otherwise
    counter = ThreadCounter()
    counter.install()
    from prelabel_local.stack import LocalStack

    runner = scale_slices.SliceTimer()
    stack = LocalStack(runner=runner)
    stack.start()
    failed = False
    try:
        sizes = [measure_size(stack, counter, n, args.samples, args.shards) for n in args.sizes]
        sliced = {
            n: [scale_slices.measure(stack, runner, n, k) for k in args.at_once]
            for n in args.slice_sizes
        }
        # Last: a seeded size's export is still running when it has been watched long enough.
        seeded = [measure_seeded(stack, counter, runner, n, args) for n in args.seeded]
        sizes += [size for size, _ in seeded]
        if sizes:
            report(sizes, args.shards)
        for n, runs in sliced.items():
            scale_slices.report(n, runs)
        scale_seeded.report([run for _, run in seeded], args.time_box_s)
    except BaseException:
        traceback.print_exc()
        failed = True
    finally:
        if args.seeded:  # not waiting for the export left running (jobs have no cancel)
            stopping = threading.Thread(target=stack.stop, daemon=True)
            stopping.start()
            stopping.join(STOP_WAIT_S)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(1 if failed else 0)
        stack.stop()
        counter.uninstall()
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
