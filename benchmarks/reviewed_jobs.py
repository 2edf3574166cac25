"""Reviewed-labels imports and quality reports at 1k and 10k tasks on the local stack.

Run: .venv/bin/python benchmarks/reviewed_jobs.py [--sizes 1000 10000]

For each size, on the whole local stack in this process (DynamoDB Local, moto executing the
jobs ASL with the real handlers): the images are imported as tasks (a job), each given a
pre-label of 5 boxes (written directly, as runs would have left them), and a COCO file of what
reviewers kept (4 of the 5 boxes, one moved) is uploaded with the presigned POST. Then timed:

- the import matched by key (COCO's file_name is the key),
- the import matched by file name only (file_name is the key's last segment, as CVAT's VOC
  export leaves it): the name pass reads every task's key,
- the quality job over every task, and `GET .../quality` (p50 of 20).

Each job in seconds, images or tasks per second, DynamoDB requests and items written per image
(counted in the job's Lambda threads). Prints a table; asserts nothing. DynamoDB Local runs on
this machine's shared cores: absolute times are far above DynamoDB's; request and item counts
carry over.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from typing import Any

from scale import ThreadCounter, timed_job

from prelabel.container import Container, use_container
from prelabel.domain.entities import ProjectRef
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi
from prelabel_local.quality_flow import compute_quality, quality, upload_file

ORG = "review-bench"
CONFIG = [{"id": "veh", "name": "Vehicle", "geometry": "bbox"}]
BOXES = 5


def review_file(keys: list[str], by_name: bool) -> bytes:
    """4 of each image's 5 planted cars (harness.plant_prelabels' boxes), the first moved."""
    images, annotations = [], []
    for i, key in enumerate(keys, start=1):
        name = key.rsplit("/", 1)[1] if by_name else key
        images.append({"id": i, "file_name": name, "width": 640, "height": 480})
        for b in range(BOXES - 1):
            shift = 1.0 if b == 0 else 0.0
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i,
                    "category_id": 1,
                    "bbox": [b + shift, b, 10.5, 20.25],
                    "area": 212.6,
                    "iscrowd": 0,
                }
            )
    doc = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 1, "name": "Vehicle"}],
    }
    return json.dumps(doc).encode()


def _import(counter: ThreadCounter, api: InProcessApi, pid: str, data: bytes, n: int) -> Any:
    key = upload_file(api, pid, "review.json", data)
    stats, _, job = timed_job(
        counter,
        n,
        lambda: api.json("POST", f"/projects/{pid}/reviewed-labels", {"key": key}),
        lambda j: harness.wait_for_job(api, pid, j["job_id"], timeout=7200),
    )
    assert job["status"] == "SUCCEEDED", job
    assert job["result"]["images_matched"] == n, job
    return stats


def measure(stack: Any, counter: ThreadCounter, n: int) -> dict[str, Any]:
    org = f"{ORG}-{n}"
    c = Container(stack.settings)
    use_container(c)
    harness.seed_organization(c, org)
    api = InProcessApi(org)
    pid = harness.create_project(api, f"Review {n}", CONFIG)
    keys = [f"{org}/shots/{i:07d}.jpg" for i in range(n)]
    harness.put_objects_in_process(stack.bucket, ((k, b"\xff\xd8jpeg") for k in keys))
    harness.connect_dataset(api, pid, stack.bucket, f"{org}/shots/", timeout=7200)
    task_ids = [t["task_id"] for t in harness.all_tasks(api, pid)]
    harness.plant_prelabels(ProjectRef(org, pid), task_ids, BOXES)
    print(f"\n{n:,} tasks: importing by key ...", flush=True)
    rows = {"import by key": _import(counter, api, pid, review_file(keys, False), n)}
    print("  importing by file name ...", flush=True)
    rows["import by file name"] = _import(counter, api, pid, review_file(keys, True), n)
    print("  computing quality ...", flush=True)
    rows["quality"], _, job = timed_job(
        counter, n, lambda: None, lambda _: compute_quality(api, pid, timeout=7200)
    )
    assert job["result"]["tasks"] == n, job
    samples = []
    for _ in range(20):
        began = time.perf_counter()
        report = quality(api, pid)
        samples.append(time.perf_counter() - began)
    veh = report["classes"][0]
    print(
        f"  report: precision {veh['precision']['value']:.3f}, recall {veh['recall']['value']:.3f}"
    )
    use_container(None)
    return {"rows": rows, "get_p50_ms": 1000 * statistics.median(samples)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    args = parser.parse_args()
    for noisy in ("werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    counter = ThreadCounter().install()
    from prelabel_local.stack import LocalStack

    stack = LocalStack()
    stack.start()
    try:
        results = {n: measure(stack, counter, n) for n in args.sizes}
    finally:
        stack.stop()
        counter.uninstall()
    print("\n| tasks | job | seconds | per second | DDB requests / image | items written / image |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for n, r in results.items():
        for name, (seconds, rate, requests, written) in r["rows"].items():
            print(
                f"| {n:,} | {name} | {seconds:.1f} | {rate:,.0f} | {requests:.3f} | {written:.2f} |"
            )
    for n, r in results.items():
        print(f"GET /quality at {n:,} tasks: p50 {r['get_p50_ms']:.0f} ms")


if __name__ == "__main__":
    main()
