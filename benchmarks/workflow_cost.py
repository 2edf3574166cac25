"""Workflow cost: N tasks through the local stack; requests and list-price cost per 1,000 images,
and the table of batch size x LabelBatch memory the template's defaults are picked from.

Run: .venv/bin/python benchmarks/workflow_cost.py [--tasks 1000]
         [--gpu-images-per-second 1000 --gpu-instance g6]

The whole local stack runs in this process (prelabel_local.stack.LocalStack: DynamoDB Local,
moto server executing the real ASL with the real Lambda handlers, the local detector endpoint
with YOLOX-Nano). Every AWS request made during the run is counted where it is sent, by
botocore `before-call` / `after-call` hooks on every client of the process. Then the worker is
profiled at each batch size (_worker_profile.py: CPU seconds, peak memory and requests per
batch, in a warm child process), and _cost_model.py turns both into the bill of any batch size
and memory. Prints figures and targets; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from _common import ROOT, YOLOX_DIR, ApiCounter, coco_photos, dynamo_item_bytes, read_units
from _cost_model import RunShape
from _cost_table import BEFORE, print_bills, print_profile, print_table
from _dynamo_writes import WRITE_OPERATIONS, ItemWrite, WriteCost, item_writes, table_indexes
from _worker_profile import WorkerFigures, profile

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


# What _cost_model.bill prices, by its names.
MODEL_PRICES = {
    "sfn_transition": PRICES["sfn_standard_transition"],
    "sfn_express_request": PRICES["sfn_express_request"],
    "sfn_express_gb_s": PRICES["sfn_express_gb_s"],
    "lambda_request": PRICES["lambda_request"],
    "lambda_gb_s": PRICES["lambda_gb_s_arm64"],
    "dynamodb_wru": PRICES["dynamodb_wru"],
    "rru": PRICES["dynamodb_rru"],
    "s3_put": PRICES["s3_put_copy_post_list"],
    "s3_get": PRICES["s3_get_other"],
}
TARGETS = {
    "transitions_per_image": 0.1,
    "endpoint_calls_per_image": 0.05,
    "dynamodb_wcu_per_image": 2.5,
    "usd_per_1000_images": 0.004,  # at a GPU's measured rate (issue 23)
}
PROFILE_SIZES = "8,16,24,32,40,48"  # BatchSize's range: at most 48 (the commit's 100 items)
MEMORIES = "512,768,1024,1536,1769"  # LabelBatch MemorySize candidates (1,769 MB: one vCPU)
DDB_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
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
class Counted:
    """What the counted run did, split into what scales with its images, its batches and the
    run itself (a RunShape for _cost_model.py), and the targets it meets."""

    parent_transitions: float = 0.0
    wcu_per_image: float = 0.0
    wcu_per_batch: float = 0.0
    wcu_per_run: float = 0.0
    read_units: float = 0.0
    s3_lists: float = 0.0
    other_lambda_usd: float = 0.0
    targets: list[tuple[str, bool]] = field(default_factory=list)

    def shape(self, images: int, worker_read_units: float, batches: int) -> RunShape:
        """`worker_read_units` per batch (the profile's) come out of the run's own reads."""
        return RunShape(
            images=images,
            parent_transitions=self.parent_transitions,
            wcu_per_image=self.wcu_per_image,
            wcu_per_batch=self.wcu_per_batch,
            wcu_per_run=self.wcu_per_run,
            rru_per_run=max(self.read_units - worker_read_units * batches, 0.0),
            s3_lists_per_run=self.s3_lists,
            other_lambda_usd_per_run=self.other_lambda_usd,
            prices=MODEL_PRICES,
        )


# --- setting up N WAITING tasks through the API -----------------------------------------------


def seed(stack: Any) -> None:
    from prelabel.container import Container, use_container
    from prelabel_local import harness

    container = Container(stack.settings)
    use_container(container)
    harness.seed_organization(container, ORG)


def make_project(stack: Any, tasks: int, folder: str = "images/") -> str:
    """A mapped project of `tasks` WAITING tasks, its photos under the organization's `folder`."""
    from prelabel_local import harness
    from prelabel_local.http_events import InProcessApi

    api = InProcessApi(ORG)
    pid = harness.create_project(api, "Bench", CONFIG)
    photos = [p.read_bytes() for p in coco_photos()]
    prefix = f"{ORG}/{folder}"
    harness.put_objects(
        stack.bucket,
        ((f"{prefix}img_{i:05d}.jpg", photos[i % len(photos)]) for i in range(tasks)),
    )
    harness.connect_dataset(api, pid, stack.bucket, prefix)
    assert harness.move_tasks(api, pid) == tasks
    api.json("PUT", f"/projects/{pid}/mapping", MAPPING)
    return pid


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


def transitions_section(sfn: Any, parent_arn: str, runner: Any, images: int, f: Counted) -> None:
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
    f.parent_transitions = parent
    per_image = deployed / images
    f.targets.append(
        (
            f"state transitions/image {per_image:.4f} <= {TARGETS['transitions_per_image']}",
            per_image <= TARGETS["transitions_per_image"],
        )
    )


def lambda_section(runner: Any, template: dict[str, Any], f: Counted) -> None:
    """Wall time per call here, for the record: LabelBatch's is billed from the model (its CPU
    seconds at the memory, the endpoint at the GPU's rate), not from this busy machine's clock;
    Prepare's and Finish's small bills are taken as measured."""
    memory = function_memory(template)
    print("\n[Lambda] invocations of the stack's runner; wall time per call here")
    for name, n in sorted(runner.invocations.items()):
        billed = sum(math.ceil(d * 1000) / 1000 for d in runner.durations.get(name, []))
        print(f"  {name:<22} {n:>5} calls  {1000 * billed / max(n, 1):8.0f} ms")
        if name != "LabelBatchFunction":
            gb_s = billed * memory.get(name, 128) / 1024
            f.other_lambda_usd += n * PRICES["lambda_request"]
            f.other_lambda_usd += gb_s * PRICES["lambda_gb_s_arm64"]


def function_memory(template: dict[str, Any]) -> dict[str, int]:
    default = int(template.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    return {
        logical: int(res.get("Properties", {}).get("MemorySize", default))
        for logical, res in template["Resources"].items()
        if res.get("Type") == "AWS::Serverless::Function"
    }


def endpoint_section(counter: ApiCounter, images: int, f: Counted) -> float:
    invokes = counter.of("sagemaker-runtime", "InvokeEndpoint")
    busy_s = sum(c.seconds for c in invokes)
    print(f"\n[SageMaker] {len(invokes)} InvokeEndpoint requests, {busy_s:.1f} s busy (this CPU)")
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


# Written once per batch commit (all other items: per image, or per run).
PER_BATCH_ITEMS = ("batch receipt", "limit", "project counters", "run (tx Update)")


def dynamodb_section(
    counter: ApiCounter,
    ddb: Any,
    template: dict[str, Any],
    names: dict[str, str],
    before: Any,
    images: int,
    f: Counted,
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
        if what.startswith("pre-label"):
            f.wcu_per_image += units / images
        elif what.startswith(PER_BATCH_ITEMS):
            f.wcu_per_batch += units
        else:
            f.wcu_per_run += units
    for what, units in sorted(cost.index_units.items()):
        print(f"  WCU index {what:<34} {units:>7}  {units / images:.3f}/image")
        f.wcu_per_run += units
    if not cost.index_units:
        print("  WCU index writes                              0  (no index key changed)")
    per_image = cost.total / images
    print(f"  WCU total {cost.total} = {per_image:.2f} per pre-labeled image")
    reads = [c for c in calls if c.operation in DDB_READS]
    f.read_units = sum(read_units(c) for c in reads)
    print(
        f"  read requests: {dict(Counter(c.operation for c in reads))}; "
        f"{f.read_units:.0f} read units (1 per item read strongly consistent, 0.5 eventually)"
    )
    _dynamodb_targets(cost, per_image, f)


def _dynamodb_targets(cost: WriteCost, per_image: float, f: Counted) -> None:
    f.targets.append(
        (
            f"DynamoDB WCU/image {per_image:.2f} <= {TARGETS['dynamodb_wcu_per_image']}",
            per_image <= TARGETS["dynamodb_wcu_per_image"],
        )
    )
    commits = cost.items.get("batch receipt", 0)  # one receipt in each batch's commit
    limit_writes = cost.items.get("limit", 0)
    f.wcu_per_batch /= max(commits, 1)
    f.targets.append(
        (
            f"limit writes: {limit_writes} for {commits} batch commits = one per batch",
            limit_writes == commits,
        )
    )


def s3_section(counter: ApiCounter, f: Counted) -> None:
    ops = Counter(c.operation for c in counter.of("s3"))
    print(f"\n[S3] {dict(ops)}")
    f.s3_lists = sum(n for op, n in ops.items() if op.startswith("ListObjects"))


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
    parser.add_argument("--batch-size", type=int, help="default: the template's BatchSize")
    parser.add_argument("--memory", type=int, help="default: the template's LabelBatch memory")
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=8,
        help="the bound of the run's concurrency, which Prepare computes from the local endpoint",
    )
    parser.add_argument("--profile-sizes", default=PROFILE_SIZES, help="batch sizes profiled")
    parser.add_argument("--profile-batches", type=int, default=3, help="measured per size")
    parser.add_argument("--memories", default=MEMORIES, help="LabelBatch memory sizes (MB)")
    parser.add_argument(
        "--gpu-images-per-second",
        type=float,
        help="price the endpoint from this GPU throughput (benchmarks/detector.py --device cuda, "
        "end to end, measured on --gpu-instance's GPU) instead of this CPU's busy time",
    )
    parser.add_argument("--gpu-instance", choices=sorted(GPU_INSTANCES), default="g6")
    return parser.parse_args()


def template_defaults(template: dict[str, Any]) -> tuple[int, int]:
    """(BatchSize, LabelBatch MemorySize) as the template deploys them."""
    size = int(template["Parameters"]["BatchSize"]["Default"])
    return size, function_memory(template)["LabelBatchFunction"]


def main() -> None:
    from prelabel_local.template_resources import load_template

    args = parse_args()
    template = load_template(ROOT / "template.yaml")
    default_size, default_memory = template_defaults(template)
    args.batch_size = args.batch_size or default_size
    args.memory = args.memory or default_memory
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
        counted = measure(stack, counter, runner, args, t0)
        sizes = sorted({*map(int, args.profile_sizes.split(",")), args.batch_size})
        started = time.perf_counter()
        figures = profile(
            stack,
            ORG,
            lambda tasks, folder: make_project(stack, tasks, folder),
            sizes,
            args.profile_batches,
        )
        print(f"\n(profile: {time.perf_counter() - started:.0f} s)")
    finally:
        stack.stop()
        counter.uninstall()
    report(args, counted, figures, (default_size, default_memory))


def measure(
    stack: Any, counter: ApiCounter, runner: Any, args: argparse.Namespace, t0: float
) -> Counted:
    """One run over every WAITING task, counted, then what each section saw."""
    from prelabel_local import harness
    from prelabel_local.http_events import InProcessApi
    from prelabel_local.template_resources import TABLE_SETTING, load_template

    settings = stack.settings
    seed(stack)
    pid = make_project(stack, args.tasks)
    api = InProcessApi(ORG)
    remaining_before = int(api.json("GET", "/limit")["remaining"])
    setup_s = time.perf_counter() - t0
    sfn = counter.plain_client("stepfunctions", endpoint_url=stack.env["AWS_ENDPOINT_URL_SFN"])
    ddb = counter.plain_client("dynamodb", endpoint_url=settings.dynamodb_endpoint)
    template = load_template(ROOT / "template.yaml")
    names = {getattr(settings, field): t for t, field in TABLE_SETTING.items()}
    before = scan_items(ddb, list(names))

    # When: one run over every WAITING task, started through the API; only it is counted (not
    # this benchmark's polling of its progress).
    runner.invocations.clear()
    runner.durations.clear()
    counter.recording = True
    started_at = time.perf_counter()
    harness.start_run(api, pid)
    with counter.muted():
        final = harness.wait_for_run_end(api, pid, timeout=1800)
    run_s = time.perf_counter() - started_at
    counter.recording = False

    parent_arn = sfn.list_executions(stateMachineArn=settings.state_machine_arn)["executions"][0][
        "executionArn"
    ]
    charged = remaining_before - int(api.json("GET", "/limit")["remaining"])
    print(
        f"\nworkflow_cost: {args.tasks} tasks, batch size {args.batch_size}, the run's "
        f"concurrency from the local endpoint (bound {args.max_concurrency}), YOLOX-Nano on the "
        f"CPU; setup {setup_s:.0f} s, run {run_s:.0f} s wall, run {final['status']}"
    )
    counted = Counted()
    transitions_section(sfn, parent_arn, runner, args.tasks, counted)
    lambda_section(runner, template, counted)
    endpoint_section(counter, args.tasks, counted)
    dynamodb_section(counter, ddb, template, names, before, args.tasks, counted)
    s3_section(counter, counted)
    counted.targets.append(
        (
            f"labeled {final['labeled']} of {args.tasks}; charged {charged} == labeled",
            final["labeled"] == args.tasks == charged,
        )
    )
    return counted


def report(
    args: argparse.Namespace,
    counted: Counted,
    figures: dict[int, WorkerFigures],
    defaults: tuple[int, int],
) -> None:
    gpu = None
    if args.gpu_images_per_second:
        instance = GPU_INSTANCES[args.gpu_instance]
        gpu = (args.gpu_images_per_second, PRICES[f"sagemaker_{instance.replace('.', '_')}_hour"])
        print(f"\nThe endpoint: {instance} at {gpu[0]:g} img/s (given: no GPU measured here)")
    w = figures[args.batch_size]
    batches = math.ceil(args.tasks / args.batch_size)
    shape = counted.shape(args.tasks, w.read_units, batches)
    print_profile(figures)
    memories = [int(m) for m in args.memories.split(",")]
    pick = print_table(shape, figures, memories, gpu)
    columns = [("before", *BEFORE), ("now", *defaults)]
    totals = print_bills(shape, figures, columns, gpu)
    if gpu:
        counted.targets.append(
            (
                f"USD per 1,000 images at the template's defaults {totals[-1]:.5f} <= "
                f"{TARGETS['usd_per_1000_images']} (before: {totals[0]:.5f})",
                totals[-1] <= TARGETS["usd_per_1000_images"],
            )
        )
    counted.targets.append(
        (
            f"the template's defaults {defaults} are the table's pick "
            f"{(pick.batch_size, pick.memory_mb)}",
            defaults == (pick.batch_size, pick.memory_mb),
        )
    )
    print("\nTargets")
    for text, ok in counted.targets:
        print(f"  [{'met' if ok else 'NOT MET'}] {text}")


if __name__ == "__main__":
    # The functions' EMF metrics and INFO logs would bury the figures.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    main()
