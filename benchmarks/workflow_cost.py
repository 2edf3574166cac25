"""Workflow cost: N tasks through the local stack; requests and list-price cost per 1,000 images.

Run: .venv/bin/python benchmarks/workflow_cost.py [--tasks 1000] [--max-concurrency 4]

The whole local stack runs in this process (prelabel_local.stack.LocalStack: DynamoDB Local,
moto server executing the real ASL with the real Lambda handlers, the local detector endpoint
with YOLOX-Nano). Every AWS request made during the run is counted where it is sent, by
botocore `before-call` / `after-call` hooks on every client of the process. Prints figures
and targets; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import ROOT, YOLOX_DIR, ApiCounter, coco_photos, dynamo_item_bytes
from _dynamo_writes import WRITE_OPERATIONS, ItemWrite, WriteCost, item_writes, table_indexes

# us-east-1 list prices (USD), read from the public pricing pages in 2025:
#   aws.amazon.com/step-functions/pricing, /lambda/pricing, /dynamodb/pricing/on-demand,
#   /s3/pricing (S3 Standard), /sagemaker/pricing (real-time inference).
PRICES = {
    "sfn_standard_transition": 0.025 / 1_000,  # Standard workflows, per state transition
    "sfn_express_request": 1.00 / 1_000_000,  # Express workflows, per execution (request)
    "sfn_express_gb_s": 0.00001667,  # Express, per GB-second (first 1,000 GB-hours)
    "lambda_request": 0.20 / 1_000_000,
    "lambda_gb_s_arm64": 0.0000133334,  # template.yaml: Architectures [arm64]
    "dynamodb_wru": 0.625 / 1_000_000,  # on-demand write request unit
    "dynamodb_rru": 0.125 / 1_000_000,  # on-demand read request unit
    "s3_put_copy_post_list": 0.005 / 1_000,  # S3 Standard PUT, COPY, POST, LIST
    "s3_get_other": 0.0004 / 1_000,  # S3 Standard GET, SELECT and all other requests
    "sagemaker_ml_g4dn_xlarge_hour": 0.736,  # real-time inference instance-hour
    "sagemaker_ml_g5_xlarge_hour": 1.408,  # A10G 24 GB
    "sagemaker_ml_g6_xlarge_hour": 1.1267,  # L4 24 GB (EC2 g6.xlarge 0.8048 x SageMaker's ~1.4)
}
GPU_INSTANCES = {"g4dn": "ml.g4dn.xlarge", "g5": "ml.g5.xlarge", "g6": "ml.g6.xlarge"}


def gpu_cost_per_1000(images_per_second: float, hourly_price: float) -> tuple[float, float]:
    """Instance-hours and USD per 1,000 images for an endpoint kept busy at that throughput."""
    hours = 1000 / (3600 * images_per_second)
    return hours, hours * hourly_price


EXPRESS_MEMORY_GB = 0.064  # Express bills memory in 64 MB steps; small states use the first
TARGETS = {
    "transitions_per_image": 0.1,
    "endpoint_calls_per_image": 0.05,
    "dynamodb_wcu_per_image": 2.5,
}
DDB_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
S3_WRITE_CLASS = {"PutObject", "CopyObject", "PostObject", "ListObjectsV2", "ListObjects"}
ORG = "bench-org"
CONFIG = [
    {"id": "veh", "name": "Vehicle", "geometry": "bbox"},
    {"id": "per", "name": "Person", "geometry": "bbox"},
    {"id": "ani", "name": "Animal", "geometry": "bbox"},
]
MAPPING = {
    "rows": [{"detector_class": c, "entry_id": "veh"} for c in ("car", "truck", "bus")]
    + [{"detector_class": "person", "entry_id": "per"}]
    + [{"detector_class": c, "entry_id": "ani"} for c in ("cat", "dog", "horse", "bird")],
    "default_threshold": 0.3,
}


@dataclass
class Figures:
    """What one section adds to the bill: (what, count per 1k images, USD per 1k, note)."""

    rows: list[tuple[str, float, float, str]] = field(default_factory=list)
    targets: list[tuple[str, bool]] = field(default_factory=list)

    def add(self, what: str, count_per_k: float, price: float, note: str = "") -> None:
        self.rows.append((what, count_per_k, count_per_k * price, note))


# --- setting up N WAITING tasks through the API -----------------------------------------------


def make_project(stack: Any, tasks: int) -> tuple[str, int]:
    from prelabel.container import Container, use_container
    from prelabel_local import harness
    from prelabel_local.http_events import InProcessApi

    container = Container(stack.settings)
    use_container(container)
    harness.seed_organization(container, ORG)
    api = InProcessApi(ORG)
    pid = harness.create_project(api, "Bench", CONFIG)
    photos = [p.read_bytes() for p in coco_photos()]
    prefix = f"{ORG}/images/"
    harness.put_objects(
        stack.bucket,
        ((f"{prefix}img_{i:05d}.jpg", photos[i % len(photos)]) for i in range(tasks)),
    )
    harness.connect_dataset(api, pid, stack.bucket, prefix)
    assert harness.move_tasks(api, pid) == tasks
    api.json("PUT", f"/projects/{pid}/mapping", MAPPING)
    return pid, int(api.json("GET", "/limit")["remaining"])


def timed_runner() -> Any:
    from prelabel_local.lambdas import LambdaRunner

    class TimedRunner(LambdaRunner):
        """The stack's runner (same counting), also timing each handler invocation."""

        def __init__(self) -> None:
            super().__init__()
            self.durations: dict[str, list[float]] = {}

        def run(self, name: str, body: Any, response_headers: dict[str, str]) -> bytes:
            started = time.perf_counter()
            try:
                return super().run(name, body, response_headers)
            finally:
                with self._lock:
                    self.durations.setdefault(name, []).append(time.perf_counter() - started)

    return TimedRunner()


# --- the sections of the report ---------------------------------------------------------------


def transitions_section(sfn: Any, parent_arn: str, runner: Any, images: int, f: Figures) -> None:
    """moto 5.2.5 runs a Distributed Map's children inside the parent's interpreter: they have no
    executions of their own, so children are counted from describe_map_run's executionCounts."""
    events: list[dict[str, Any]] = []
    token = None
    while True:
        page = sfn.get_execution_history(
            executionArn=parent_arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    entered = Counter(e["type"] for e in events if e["type"].endswith("StateEntered"))
    children = sum(
        int(
            sfn.describe_map_run(mapRunArn=r["mapRunArn"])
            .get("executionCounts", {})
            .get("total", 0)
        )
        for r in sfn.list_map_runs(executionArn=parent_arn).get("mapRuns", [])
    )
    parent = sum(entered.values())
    deployed = parent + children
    print(
        f"\n[Step Functions] parent: {parent} states entered {dict(entered)}; {children} child "
        f"executions; deployed (EXPRESS children) = parent + 1 per child = {deployed} transitions;"
        f" LabelBatch attempts here (STANDARD children, retries incl.): "
        f"{runner.invocations.get('LabelBatchFunction', 0)}"
    )
    per_k = 1000 / images
    f.add("SFN standard transitions", deployed * per_k, PRICES["sfn_standard_transition"])
    f.add("SFN EXPRESS child requests", children * per_k, PRICES["sfn_express_request"])
    seconds = runner.durations.get("LabelBatchFunction", [])
    express_gb_s = sum(math.ceil(d * 10) / 10 for d in seconds) * EXPRESS_MEMORY_GB
    f.add("SFN EXPRESS child GB-s", express_gb_s * per_k, PRICES["sfn_express_gb_s"], "64 MB")
    per_image = deployed / images
    f.targets.append(
        (
            f"state transitions/image {per_image:.4f} <= {TARGETS['transitions_per_image']}",
            per_image <= TARGETS["transitions_per_image"],
        )
    )


def lambda_section(runner: Any, template: dict[str, Any], images: int, f: Figures) -> float:
    default = int(template.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    memory = {
        logical: int(res.get("Properties", {}).get("MemorySize", default))
        for logical, res in template["Resources"].items()
        if res.get("Type") == "AWS::Serverless::Function"
    }
    per_k = 1000 / images
    print("\n[Lambda] invocations of the stack's runner; wall time per call; memory of template")
    label_gb_s = 0.0
    for name, n in sorted(runner.invocations.items()):
        billed = sum(math.ceil(d * 1000) / 1000 for d in runner.durations.get(name, []))
        gb_s = billed * memory.get(name, 128) / 1024
        label_gb_s = gb_s if name == "LabelBatchFunction" else label_gb_s
        print(f"  {name:<22} {n:>5} calls  {1000 * billed / max(n, 1):8.0f} ms  {gb_s:8.2f} GB-s")
        f.add(f"Lambda {name} requests", n * per_k, PRICES["lambda_request"])
        f.add(f"Lambda {name} GB-s", gb_s * per_k, PRICES["lambda_gb_s_arm64"], "arm64")
    return label_gb_s


def endpoint_section(
    counter: ApiCounter, images: int, f: Figures, gpu: tuple[float, str] | None
) -> float:
    """`gpu`: (images/s measured on a GPU, instance) prices the endpoint from that throughput
    instead of this CPU's busy time."""
    invokes = counter.of("sagemaker-runtime", "InvokeEndpoint")
    busy_s = sum(c.seconds for c in invokes)
    per_k = 1000 / images
    print(f"\n[SageMaker] {len(invokes)} InvokeEndpoint requests, {busy_s:.1f} s busy (this CPU)")
    f.add("SageMaker InvokeEndpoint", len(invokes) * per_k, 0.0, "no per-request fee")
    if gpu:
        rate, instance = gpu
        price = PRICES[f"sagemaker_{instance.replace('.', '_')}_hour"]
        hours, _ = gpu_cost_per_1000(rate, price)
        f.add(f"SageMaker {instance} hours", hours, price, f"busy at {rate:g} img/s")
    else:
        f.add(
            "SageMaker g4dn.xlarge hours",
            busy_s / 3600 * per_k,
            PRICES["sagemaker_ml_g4dn_xlarge_hour"],
            "busy time measured here (CPU)",
        )
    per_image = len(invokes) / images
    f.targets.append(
        (
            f"endpoint invocations/image {per_image:.4f} <= {TARGETS['endpoint_calls_per_image']}",
            per_image <= TARGETS["endpoint_calls_per_image"],
        )
    )
    return busy_s


def _item_kind(names: dict[str, str]) -> Any:
    """Names each written item by what it is, from its table and key."""

    def label(w: ItemWrite) -> str:
        table = names.get(w.table, w.table)
        key = dict(w.key)
        pk = key.get("project_key", "") or key.get("org_id", "")
        if table == "TasksTable":
            if "#pl#" in pk:
                return "pre-label"
            # `<project>#counts`, or one shard's `<project>#counts#<n>`
            return "project counters" if "#counts" in pk else "task"
        if table == "RunsTable":
            for prefix, what in (("batch#", "batch receipt"), ("crash#", "crash note")):
                if pk.startswith(prefix):
                    return what
            return "run snapshot" if pk.startswith("snapshot#") else "run"
        return {"OrganizationsTable": "limit", "ProjectsTable": "project"}.get(table, table)

    return label


def dynamodb_section(
    counter: ApiCounter,
    ddb: Any,
    template: dict[str, Any],
    names: dict[str, str],
    before: Any,
    images: int,
    f: Figures,
) -> None:
    items_before, key_names = before
    after_items, _ = scan_items(ddb, list(names))
    calls = sorted(counter.of("dynamodb"), key=lambda c: c.started)
    writes = [(c, item_writes(c, key_names)) for c in calls if c.operation in WRITE_OPERATIONS]
    cost = WriteCost(
        table_indexes(template, {logical: phys for phys, logical in names.items()}),
        key_names,
        items_before,
        {k: dynamo_item_bytes(v) for k, v in after_items.items()},
    )
    cost.observe(writes, _item_kind(names))
    print(
        "\n[DynamoDB] write units from the request bodies (benchmarks/_dynamo_writes.py: item "
        "size before/after, x2 in transactions, every index write from template.yaml)"
    )
    print(f"  requests: {dict(Counter(c.operation for c, _ in writes))}")
    for what, units in sorted(cost.table_units.items()):
        print(f"  WCU {what:<40} {units:>7}  {units / images:.3f}/image")
    for what, units in sorted(cost.index_units.items()):
        print(f"  WCU index {what:<34} {units:>7}  {units / images:.3f}/image")
    if not cost.index_units:
        print("  WCU index writes                              0  (no index key changed)")
    per_image = cost.total / images
    print(f"  WCU total {cost.total} = {per_image:.2f} per pre-labeled image")
    reads = Counter(c.operation for c in calls if c.operation in DDB_READS)
    print(f"  read requests: {dict(reads)}")
    per_k = 1000 / images
    f.add("DynamoDB write request units", cost.total * per_k, PRICES["dynamodb_wru"], "+ index")
    read_units = sum(reads.values())  # lower bound: 1 unit per request
    f.add("DynamoDB read requests (>= RRU)", read_units * per_k, PRICES["dynamodb_rru"], ">=")
    f.targets.append(
        (
            f"DynamoDB WCU/image {per_image:.2f} <= {TARGETS['dynamodb_wcu_per_image']}",
            per_image <= TARGETS["dynamodb_wcu_per_image"],
        )
    )
    commits = cost.items.get("batch receipt", 0)  # one receipt in each batch's commit
    limit_writes = cost.items.get("limit", 0)
    f.targets.append(
        (
            f"limit writes: {limit_writes} for {commits} batch commits = one per batch",
            limit_writes == commits,
        )
    )


def s3_section(counter: ApiCounter, images: int, f: Figures) -> None:
    ops = Counter(c.operation for c in counter.of("s3"))
    print(f"\n[S3] {dict(ops)}")
    written = sum(n for op, n in ops.items() if op in S3_WRITE_CLASS)
    other = sum(n for op, n in ops.items() if op not in S3_WRITE_CLASS)
    per_k = 1000 / images
    f.add("S3 PUT/COPY/POST/LIST", written * per_k, PRICES["s3_put_copy_post_list"])
    f.add("S3 GET and other", other * per_k, PRICES["s3_get_other"])


def print_bill(f: Figures) -> None:
    print(f"\nPer 1,000 images (list prices us-east-1; PRICES at the top of {Path(__file__).name})")
    print(f"  {'item':<34} {'count':>12} {'USD':>12}  note")
    for what, count, usd, note in f.rows:
        print(f"  {what:<34} {count:>12.2f} {usd:>12.5f}  {note}")
    print(f"  {'total':<34} {'':>12} {sum(r[2] for r in f.rows):>12.5f}")
    print("\nTargets")
    for text, ok in f.targets:
        print(f"  [{'met' if ok else 'NOT MET'}] {text}")


def scan_items(
    ddb: Any, tables: list[str]
) -> tuple[dict[Any, dict[str, Any]], dict[str, list[str]]]:
    """Every item of the tables, read with a client the counter does not see."""
    items: dict[Any, dict[str, Any]] = {}
    keys: dict[str, list[str]] = {}
    for table in tables:
        schema = ddb.describe_table(TableName=table)["Table"]["KeySchema"]
        names = keys[table] = [k["AttributeName"] for k in schema]
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                key = tuple(sorted((k, str(next(iter(item[k].values())))) for k in names))
                items[(table, key)] = item
    return items, keys


# --- main -------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-concurrency", type=int, default=4)
    parser.add_argument(
        "--gpu-images-per-second",
        type=float,
        help="price the endpoint from this GPU throughput (benchmarks/detector.py --device cuda, "
        "end to end, measured on --gpu-instance's GPU) instead of this CPU's busy time",
    )
    parser.add_argument("--gpu-instance", choices=sorted(GPU_INSTANCES), default="g6")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    for noisy in ("werkzeug", "moto"):  # request lines and interpreter notes, not figures
        logging.getLogger(noisy).setLevel(logging.ERROR)
    counter = ApiCounter().install()  # before any client exists
    from prelabel_local.stack import LocalStack

    runner = timed_runner()
    stack = LocalStack(
        batch_size=args.batch_size,
        max_concurrency=args.max_concurrency,
        weights_dir=YOLOX_DIR,
        runner=runner,
    )
    t0 = time.perf_counter()
    stack.start()
    try:
        measure(stack, counter, runner, args, t0)
    finally:
        stack.stop()
        counter.uninstall()


def measure(
    stack: Any, counter: ApiCounter, runner: Any, args: argparse.Namespace, t0: float
) -> None:
    """One run over every WAITING task, counted, then the bill of each section."""
    from prelabel_local import harness
    from prelabel_local.http_events import InProcessApi
    from prelabel_local.template_resources import TABLE_SETTING, load_template

    settings = stack.settings
    pid, remaining_before = make_project(stack, args.tasks)
    setup_s = time.perf_counter() - t0
    sfn = counter.plain_client("stepfunctions", endpoint_url=stack.env["AWS_ENDPOINT_URL_SFN"])
    ddb = counter.plain_client("dynamodb", endpoint_url=settings.dynamodb_endpoint)
    template = load_template(ROOT / "template.yaml")
    names = {getattr(settings, field): t for t, field in TABLE_SETTING.items()}
    before = scan_items(ddb, list(names))

    # When: one run over every WAITING task, started through the API; only it is counted.
    api = InProcessApi(ORG)
    runner.invocations.clear()
    runner.durations.clear()
    counter.recording = True
    started_at = time.perf_counter()
    harness.start_run(api, pid)
    final = harness.wait_for_run_end(api, pid, timeout=1800)
    run_s = time.perf_counter() - started_at
    counter.recording = False

    parent_arn = sfn.list_executions(stateMachineArn=settings.state_machine_arn)["executions"][0][
        "executionArn"
    ]
    charged = remaining_before - int(api.json("GET", "/limit")["remaining"])
    print(
        f"\nworkflow_cost: {args.tasks} tasks, batch size {args.batch_size}, Map "
        f"MaxConcurrency {args.max_concurrency}, YOLOX-Nano on the CPU; setup {setup_s:.0f} s,"
        f" run {run_s:.0f} s wall, run {final['status']}"
    )
    figures = Figures()
    transitions_section(sfn, parent_arn, runner, args.tasks, figures)
    lambda_section(runner, template, args.tasks, figures)
    gpu = (
        (args.gpu_images_per_second, GPU_INSTANCES[args.gpu_instance])
        if args.gpu_images_per_second
        else None
    )
    endpoint_section(counter, args.tasks, figures, gpu)
    dynamodb_section(counter, ddb, template, names, before, args.tasks, figures)
    s3_section(counter, args.tasks, figures)
    figures.targets.append(
        (
            f"labeled {final['labeled']} of {args.tasks}; charged {charged} == labeled",
            final["labeled"] == args.tasks == charged,
        )
    )
    print_bill(figures)


if __name__ == "__main__":
    # The functions' EMF metrics and INFO logs would bury the figures.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    main()
