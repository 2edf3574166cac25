"""Workflow cost: 1,000 tasks through the local stack; requests and list-price cost per 1,000.

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
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, YOLOX_DIR, ApiCounter, Call, coco_photos, dynamo_item_bytes

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
TARGETS = {"transitions_per_image": 0.1, "endpoint_calls_per_image": 0.05}
DDB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
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


# --- the Lambda runner of the stack, with handler durations --------------------------------


def timed_runner_class() -> type:
    from prelabel_local.lambdas import LambdaRunner

    class TimedRunner(LambdaRunner):
        """The stack's runner (same counting), also timing each handler invocation."""

        instance: TimedRunner | None = None

        def __init__(self) -> None:
            super().__init__()
            self.durations: dict[str, list[float]] = defaultdict(list)
            TimedRunner.instance = self

        def run(self, name: str, body: Any, response_headers: dict[str, str]) -> bytes:
            started = time.perf_counter()
            try:
                return super().run(name, body, response_headers)
            finally:
                with self._lock:
                    self.durations[name].append(time.perf_counter() - started)

    return TimedRunner


# --- setting up N WAITING tasks through the API ---------------------------------------------


def make_project(stack: Any, tasks: int) -> tuple[str, int]:
    import boto3

    from prelabel.api import deps
    from prelabel.domain.plans import Plan
    from prelabel.entrypoints import workflow_env
    from prelabel.services.organizations import provision_organization
    from prelabel.wiring import dynamo_ports
    from prelabel_local.http_events import call_api

    ports = dynamo_ports(stack.settings)
    deps.use_ports(ports)
    workflow_env.ports.cache_clear()
    provision_organization(
        ports.orgs,
        ports.settings.plan_limits,
        org_id=ORG,
        name=ORG,
        plan=Plan.TEAM_PRO,
        period="2026-11",
    )
    reply = call_api("POST", "/projects", ORG, {"name": "Bench", "label_config": CONFIG})
    pid = reply.body["project_id"]
    s3 = boto3.client("s3")
    photos = [p.read_bytes() for p in coco_photos()]
    for i in range(tasks):
        key = f"{ORG}/images/img_{i:05d}.jpg"
        s3.put_object(Bucket=stack.bucket, Key=key, Body=photos[i % len(photos)])
    prefix = f"{ORG}/images/"
    connected = call_api(
        "POST", f"/projects/{pid}/datasets", ORG, {"bucket": stack.bucket, "prefix": prefix}
    )
    assert connected.status == 201, connected.body
    moved = call_api(
        "POST",
        f"/projects/{pid}/tasks/move",
        ORG,
        {"from": "BACKLOG", "to": "WAITING", "all": True},
    )
    assert moved.body["moved"] == tasks, moved.body
    assert call_api("PUT", f"/projects/{pid}/mapping", ORG, MAPPING).status == 200
    remaining = call_api("GET", "/limit", ORG).body["remaining"]
    return pid, int(remaining)


def wait_for_execution(sfn: Any, state_machine_arn: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        executions = sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]
        if executions and all(e["status"] != "RUNNING" for e in executions):
            return str(executions[0]["executionArn"])
        time.sleep(0.5)
    raise TimeoutError(f"the run's execution still runs after {timeout}s")


# --- counting -------------------------------------------------------------------------------


def history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    token = None
    while True:
        page = sfn.get_execution_history(
            executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def state_transitions(sfn: Any, parent_arn: str) -> dict[str, Any]:
    """States entered in the parent (moto's execution history) and the map's child executions.

    moto 5.2.5 runs a Distributed Map's children inside the parent's interpreter: they get no
    execution of their own (list_executions(mapRunArn=...) is not implemented), so children are
    counted from describe_map_run's executionCounts, and the states each child enters from the
    ASL (one Task state, LabelBatch) plus its retries (Lambda invocations beyond one per child).
    """
    parent = history(sfn, parent_arn)
    entered = Counter(e["type"] for e in parent if e["type"].endswith("StateEntered"))
    map_runs = sfn.list_map_runs(executionArn=parent_arn).get("mapRuns", [])
    children = 0
    for run in map_runs:
        described = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
        children += int(described.get("executionCounts", {}).get("total", 0))
    return {
        "parent_events": len(parent),
        "parent_event_types": Counter(e["type"] for e in parent),
        "parent_entered": entered,
        "map_runs": len(map_runs),
        "children": children,
    }


def resolve_names(expression: str, names: dict[str, str]) -> str:
    for placeholder, name in sorted(names.items(), key=lambda kv: -len(kv[0])):
        expression = expression.replace(placeholder, name)
    return expression


def write_items(call: Call, keys: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Each item a DynamoDB write request touches: table, kind, key, payload bytes, in-tx."""
    p = call.params
    out = []
    if call.operation == "TransactWriteItems":
        for entry in p.get("TransactItems", []):
            (kind, body), *_ = entry.items()
            out.append(_item(kind, body, keys, transactional=True))
    elif call.operation == "BatchWriteItem":
        for table, requests in p.get("RequestItems", {}).items():
            for r in requests:
                (kind, body), *_ = r.items()
                out.append(_item(kind, {"TableName": table, **body}, keys, transactional=False))
    else:
        out.append(_item(call.operation, p, keys, transactional=False))
    return out


def _item(
    kind: str, body: dict[str, Any], keys: dict[str, list[str]], *, transactional: bool
) -> dict[str, Any]:
    kind = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}.get(kind, kind)
    kind = {"PutRequest": "Put", "DeleteRequest": "Delete"}.get(kind, kind)
    table = body.get("TableName", "")
    source = body.get("Key") or body.get("Item") or {}
    key = {k: source[k] for k in keys.get(table, []) if k in source}
    payload = dynamo_item_bytes(body.get("Item", {})) + dynamo_item_bytes(
        body.get("ExpressionAttributeValues", {})
    )
    names = body.get("ExpressionAttributeNames", {})
    update = resolve_names(body.get("UpdateExpression", ""), names)
    return {
        "table": table,
        "kind": kind,
        "key": tuple(sorted((k, next(iter(v.values()))) for k, v in key.items())),
        "payload": payload,
        "update": update,
        "transactional": transactional,
    }


def item_sizes(
    ddb: Any, tables: list[str]
) -> tuple[dict[tuple[str, tuple[Any, ...]], int], dict[str, list[str]]]:
    """Final size of every item of the tables (scan with a client the counter does not see)."""
    sizes = {}
    keys = {}
    for table in tables:
        schema = ddb.describe_table(TableName=table)["Table"]["KeySchema"]
        key_names = keys[table] = [k["AttributeName"] for k in schema]
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                key = tuple(sorted((k, next(iter(item[k].values()))) for k in key_names))
                sizes[(table, key)] = dynamo_item_bytes(item)
    return sizes, keys


def table_names(settings: Any) -> list[str]:
    return [
        settings.organizations_table,
        settings.tasks_table,
        settings.runs_table,
        settings.projects_table,
        settings.datasets_table,
    ]


def kb_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


# --- main -----------------------------------------------------------------------------------


def main() -> None:
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
    args = parser.parse_args()

    for noisy in ("werkzeug", "moto"):  # request lines and interpreter notes, not figures
        logging.getLogger(noisy).setLevel(logging.ERROR)
    counter = ApiCounter().install()  # before any client exists
    import prelabel_local.stack as stack_module
    from prelabel_local.http_events import call_api
    from prelabel_local.template_resources import load_template

    runner_cls = timed_runner_class()
    stack_module.LambdaRunner = runner_cls  # type: ignore[attr-defined,assignment] # the stack builds it
    stack = stack_module.LocalStack(
        batch_size=args.batch_size, max_concurrency=args.max_concurrency, weights_dir=YOLOX_DIR
    )
    t0 = time.perf_counter()
    stack.start()
    try:
        runner = runner_cls.instance  # type: ignore[attr-defined]
        assert runner is not None, "LocalStack did not build its LambdaRunner through the module"
        settings = stack.settings
        pid, remaining_before = make_project(stack, args.tasks)
        setup_s = time.perf_counter() - t0
        sfn = counter.plain_client("stepfunctions", endpoint_url=stack.env["AWS_ENDPOINT_URL_SFN"])
        ddb = counter.plain_client("dynamodb", endpoint_url=settings.dynamodb_endpoint)
        sizes_before = item_sizes(ddb, table_names(settings))

        # When: one run over every WAITING task, started through the API; only it is counted.
        runner.invocations.clear()
        runner.durations.clear()
        counter.recording = True
        started_at = time.perf_counter()
        started = call_api("POST", f"/projects/{pid}/runs", ORG, {"confirm": True})
        assert started.status == 201, started.body
        parent_arn = wait_for_execution(sfn, settings.state_machine_arn, timeout=900)
        run_s = time.perf_counter() - started_at
        counter.recording = False

        final = call_api("GET", f"/projects/{pid}/runs/current", ORG).body
        remaining_after = int(call_api("GET", "/limit", ORG).body["remaining"])
        states = Counter(
            (t["prelabel_state"] or "none")
            for t in all_tasks(call_api, pid)  # read back outside the counted window
        )
        transitions = state_transitions(sfn, parent_arn)
        template = load_template(ROOT / "template.yaml")
        report(
            args=args,
            counter=counter,
            runner=runner,
            transitions=transitions,
            template=template,
            settings=settings,
            ddb=ddb,
            sizes_before=sizes_before,
            final=final,
            states=states,
            charged=remaining_before - remaining_after,
            setup_s=setup_s,
            run_s=run_s,
            execution_status=sfn.describe_execution(executionArn=parent_arn)["status"],
        )
    finally:
        stack.stop()
        counter.uninstall()


def all_tasks(call_api: Any, pid: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": "200"} | ({"cursor": cursor} if cursor else {})
        page = call_api("GET", f"/projects/{pid}/tasks", ORG, query=query).body
        tasks += page["tasks"]
        cursor = page["cursor"]
        if not cursor:
            return tasks


def function_memory_mb(template: dict[str, Any]) -> dict[str, int]:
    default = int(template.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    return {
        logical: int(res.get("Properties", {}).get("MemorySize", default))
        for logical, res in template["Resources"].items()
        if res.get("Type") == "AWS::Serverless::Function"
    }


def report(**kw: Any) -> None:
    args = kw["args"]
    counter: ApiCounter = kw["counter"]
    runner = kw["runner"]
    settings = kw["settings"]
    tr = kw["transitions"]
    done = kw["states"].get("DONE", 0)
    images = args.tasks
    per_k = 1000 / images
    batches = math.ceil(images / args.batch_size)
    rows: list[tuple[str, float, float, str]] = []  # (what, count per 1k, USD per 1k, note)

    print(
        f"\nworkflow_cost: {images} tasks, batch size {args.batch_size}, "
        f"Map MaxConcurrency {args.max_concurrency}, detector YOLOX-Nano on the CPU"
    )
    print(
        f"setup {kw['setup_s']:.0f} s; run {kw['run_s']:.0f} s wall; "
        f"execution {kw['execution_status']}; run status {kw['final']['status']}"
    )

    # State transitions
    parent_entered = sum(tr["parent_entered"].values())
    children = tr["children"]
    label_calls = runner.invocations.get("LabelBatchFunction", 0)
    deployed = parent_entered + children
    local = parent_entered + label_calls  # STANDARD children: LabelBatch entered per attempt
    print(
        "\n[Step Functions] method: parent = moto get_execution_history, events "
        "'*StateEntered'; children = describe_map_run executionCounts (moto runs them inside "
        "the parent: no child histories, list_executions(mapRunArn) unimplemented)"
    )
    print(
        f"  parent: {parent_entered} states entered {dict(tr['parent_entered'])} of "
        f"{tr['parent_events']} history events; map runs {tr['map_runs']}; "
        f"child executions {children} for {batches} batches"
    )
    print(
        f"  deployed (EXPRESS children): parent states + 1 per child started = {deployed} "
        "transitions (AWS bills one standard transition per child a Distributed Map starts; "
        "EXPRESS children bill requests + duration)"
    )
    print(
        f"  local (STANDARD children, as moto runs them): parent + LabelBatch state entries "
        f"incl. retries ({label_calls}) = {local}"
    )
    t_per_img = deployed / images
    rows.append(
        (
            "SFN standard transitions",
            deployed * per_k,
            deployed * per_k * PRICES["sfn_standard_transition"],
            "parent + 1/child",
        )
    )

    # Lambda
    memory = function_memory_mb(kw["template"])
    print(
        "\n[Lambda] method: LambdaRunner.invocations of the stack's runner; durations: "
        "wall time of each handler call in-process; memory from template.yaml"
    )
    lambda_gb_s: dict[str, float] = {}
    for name, n in sorted(runner.invocations.items()):
        durations = runner.durations.get(name, [])
        billed = sum(math.ceil(d * 1000) / 1000 for d in durations)
        gb_s = billed * memory.get(name, 128) / 1024
        lambda_gb_s[name] = gb_s
        mean_ms = 1000 * billed / max(len(durations), 1)
        print(
            f"  {name:<22} {n:>5} invocations  mean {mean_ms:8.0f} ms  "
            f"{memory.get(name, 128):>5} MB  {gb_s:8.2f} GB-s"
        )
        rows.append(
            (f"Lambda {name} requests", n * per_k, n * per_k * PRICES["lambda_request"], "")
        )
        rows.append(
            (
                f"Lambda {name} GB-s",
                gb_s * per_k,
                gb_s * per_k * PRICES["lambda_gb_s_arm64"],
                "arm64, measured here",
            )
        )

    # Express children (deployed): requests + duration of the child ~ its LabelBatch call
    child_seconds = runner.durations.get("LabelBatchFunction", [])
    express_gb_s = sum(math.ceil(d * 10) / 10 for d in child_seconds) * EXPRESS_MEMORY_GB
    rows.append(
        (
            "SFN EXPRESS child requests",
            children * per_k,
            children * per_k * PRICES["sfn_express_request"],
            "deployed children",
        )
    )
    rows.append(
        (
            "SFN EXPRESS child GB-s",
            express_gb_s * per_k,
            express_gb_s * per_k * PRICES["sfn_express_gb_s"],
            "64 MB x LabelBatch time",
        )
    )

    # Endpoint
    invokes = counter.of("sagemaker-runtime", "InvokeEndpoint")
    busy_s = sum(c.seconds for c in invokes)
    e_per_img = len(invokes) / images
    print(
        "\n[SageMaker] method: botocore before-call/after-call on sagemaker-runtime "
        "InvokeEndpoint (the worker's client); busy time = sum of request wall times"
    )
    print(
        f"  {len(invokes)} InvokeEndpoint requests, {busy_s:.1f} s busy "
        f"({1000 * busy_s / max(done, 1):.1f} ms/image on this CPU; a T4 is far faster)"
    )
    rows.append(("SageMaker InvokeEndpoint", len(invokes) * per_k, 0.0, "no per-request fee"))
    if args.gpu_images_per_second:
        instance = GPU_INSTANCES[args.gpu_instance]
        price = PRICES[f"sagemaker_{instance.replace('.', '_')}_hour"]
        hours, usd = gpu_cost_per_1000(args.gpu_images_per_second, price)
        rows.append(
            (
                f"SageMaker {instance} seconds",
                hours * 3600,
                usd,
                f"busy at {args.gpu_images_per_second:g} img/s",
            )
        )
    else:
        rows.append(
            (
                "SageMaker g4dn.xlarge hours",
                busy_s / 3600 * per_k,
                busy_s / 3600 * per_k * PRICES["sagemaker_ml_g4dn_xlarge_hour"],
                "busy time measured here (CPU)",
            )
        )

    # DynamoDB
    tables = {
        settings.organizations_table: "orgs",
        settings.tasks_table: "tasks",
        settings.runs_table: "runs",
        settings.projects_table: "projects",
        settings.datasets_table: "datasets",
    }
    calls = sorted(counter.of("dynamodb"), key=lambda c: c.started)
    eligible_projection = next(
        gsi["Projection"]["ProjectionType"]
        for gsi in kw["template"]["Resources"]["TasksTable"]["Properties"]["GlobalSecondaryIndexes"]
        if gsi["IndexName"] == "eligible"
    )
    before, key_names = kw["sizes_before"]
    after, _ = item_sizes(kw["ddb"], list(tables))
    writes = [(c, write_items(c, key_names)) for c in calls if c.operation in DDB_WRITES]
    last_write = {}
    for n, (_, items) in enumerate(writes):
        for item in items:
            last_write[(item["table"], item["key"])] = n
    current = dict(before)  # item sizes as the run goes
    per_op: Counter[str] = Counter()
    wcu_by: Counter[str] = Counter()
    gsi_wcu = 0
    org_writes = 0
    org_items_per_commit: Counter[int] = Counter()
    reported: dict[str, float] = defaultdict(float)
    reads = Counter(c.operation for c in calls if c.operation in DDB_READS)
    for n, (c, items) in enumerate(writes):
        per_op[c.operation] += 1
        for cc in c.consumed if isinstance(c.consumed, list) else [c.consumed or {}]:
            reported[c.operation] += float(cc.get("CapacityUnits", 0))
        org_items = 0
        for item in items:
            table = tables.get(item["table"], item["table"])
            ident = (item["table"], item["key"])
            per_op[f"  {c.operation}:{item['kind']} {table}"] += 1
            # A write costs by the larger of the item before and after it: the item's size so
            # far plus what this request adds, or its final size for the item's last write.
            old = current.get(ident, 0)
            new = after.get(ident, 0) if last_write[ident] == n else old + item["payload"]
            current[ident] = new
            units = kb_units(max(old, new, item["payload"])) * (2 if item["transactional"] else 1)
            wcu_by[f"{table} ({'tx ' if item['transactional'] else ''}{item['kind']})"] += units
            if table == "orgs" and item["kind"] in ("Update", "Put"):
                org_writes += 1
                org_items += 1
            if table == "tasks" and (eligible_projection == "ALL" or item["transactional"]):
                # With ALL, every write to a task still in the sparse 'eligible' index (claim,
                # release) or taking it out writes the index too; with KEYS_ONLY only the
                # commit that removes eligible_key does (claims change no projected attribute).
                gsi_wcu += 1
        if c.operation == "TransactWriteItems" and any(
            i["table"] == settings.tasks_table for i in items
        ):
            org_items_per_commit[org_items] += 1
    table_wcu = sum(wcu_by.values())
    total_wcu = table_wcu + gsi_wcu
    print(
        "\n[DynamoDB] method: botocore before-call on pynamodb's client (request bodies); "
        "each item of each write -> ceil(size/1 KB) WCU, x2 inside TransactWriteItems; size = "
        "larger of the item before and after the write (tables scanned before and after the "
        "run, request payloads in between); GSI: 1 WCU per write to a task in 'eligible'"
    )
    for op, n in sorted(per_op.items(), key=lambda kv: (kv[0].startswith(" "), kv[0])):
        print(f"  {op:<44} {n:>6}")
    for what, units in sorted(wcu_by.items()):
        print(f"  WCU {what:<38} {units:>6}")
    print(f"  WCU eligible GSI ({eligible_projection:<9} projection) {gsi_wcu:>6}  (estimated)")
    print(
        f"  WCU total {total_wcu} = {total_wcu / images:.2f} per image; read requests: "
        f"{dict(reads)}"
    )
    print(
        f"  cross-check, ConsumedCapacity as DynamoDB Local reports it (no GSI, no item size "
        f"rule): {dict(reported)}"
    )
    rows.append(
        (
            "DynamoDB write request units",
            total_wcu * per_k,
            total_wcu * per_k * PRICES["dynamodb_wru"],
            "table + GSI",
        )
    )
    read_units = sum(reads.values())  # lower bound: 1 RRU per request (items under 4 KB)
    rows.append(
        (
            "DynamoDB read requests (>= RRU)",
            read_units * per_k,
            read_units * per_k * PRICES["dynamodb_rru"],
            "lower bound",
        )
    )

    # S3
    s3 = Counter(c.operation for c in counter.of("s3"))
    print(
        "\n[S3] method: botocore before-call on every S3 client (the functions' and the one "
        "moto's Step Functions interpreter uses for the ItemReader)"
    )
    for op, n in sorted(s3.items()):
        print(f"  {op:<20} {n:>6}")
    s3_write = sum(n for op, n in s3.items() if op in S3_WRITE_CLASS)
    s3_other = sum(n for op, n in s3.items() if op not in S3_WRITE_CLASS)
    rows.append(
        (
            "S3 PUT/COPY/POST/LIST",
            s3_write * per_k,
            s3_write * per_k * PRICES["s3_put_copy_post_list"],
            "",
        )
    )
    rows.append(
        ("S3 GET and other", s3_other * per_k, s3_other * per_k * PRICES["s3_get_other"], "")
    )

    other = {
        f"{s}.{o}": n
        for (s, o), n in counter.by_operation().items()
        if s not in ("dynamodb", "s3", "sagemaker-runtime")
    }
    print(f"\n[other requests during the run] {other}")

    print(f"\nPer 1,000 images (list prices us-east-1; PRICES at the top of {Path(__file__).name})")
    print(f"  {'item':<34} {'count':>12} {'USD':>12}  note")
    total = 0.0
    for what, count, usd, note in rows:
        total += usd
        print(f"  {what:<34} {count:>12.2f} {usd:>12.5f}  {note}")
    print(f"  {'total':<34} {'':>12} {total:>12.5f}")
    label_gb_s = lambda_gb_s.get("LabelBatchFunction", 0.0)
    waitless = max(label_gb_s - busy_s * memory.get("LabelBatchFunction", 1024) / 1024, 0.0)
    print(
        f"  note: LabelBatch time includes waiting for this CPU's detector ({busy_s:.0f} s); "
        f"without that wait its GB-s per 1,000 images would be {waitless * per_k:.1f} "
        f"(${waitless * per_k * PRICES['lambda_gb_s_arm64']:.5f}), and the endpoint's busy "
        "time on a GPU is a fraction of the figure above. An always-on endpoint bills every "
        "hour it is up, busy or not."
    )

    print("\nTargets (default batch size)")
    commits = sum(org_items_per_commit.values())
    quota_ok = org_writes == commits == batches and set(org_items_per_commit) == {1}
    checks = [
        (
            f"state transitions/image {t_per_img:.4f} <= {TARGETS['transitions_per_image']}",
            t_per_img <= TARGETS["transitions_per_image"],
        ),
        (
            f"endpoint invocations/image {e_per_img:.4f} <= {TARGETS['endpoint_calls_per_image']}",
            e_per_img <= TARGETS["endpoint_calls_per_image"],
        ),
        (
            f"quota writes: {org_writes} organization writes, {commits} commit transactions, "
            f"{batches} batches (org items per commit: {dict(org_items_per_commit)})"
            " = one per batch",
            quota_ok,
        ),
        (
            f"DONE {done} of {images}; charged {kw['charged']} == DONE; run counters labeled "
            f"{kw['final'].get('labeled')}",
            done == images and kw["charged"] == done == kw["final"].get("labeled"),
        ),
    ]
    for text, ok in checks:
        print(f"  [{'met' if ok else 'NOT MET'}] {text}")


if __name__ == "__main__":
    # The functions' EMF metrics and INFO logs would bury the figures.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    main()
