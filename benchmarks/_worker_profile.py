"""The worker's own cost per batch, by batch size: CPU seconds, peak memory, AWS requests.

For each batch size, a project of its own gets a run (created as the API creates it, without
an execution) and its manifest, and one child process runs the LabelBatch handler on its batches
one after the other over the local stack's DynamoDB Local, moto's S3 and the local endpoint, as
a warm Lambda does: the first batch warms the process up
(imports, clients) and is left out. Per measured batch the child reports its CPU time (user +
system, every thread, `getrusage`; the endpoint runs in the parent, so its work is not in it),
its wall time, its endpoint call, its peak RSS (what Lambda's "Max Memory Used" reports) and
the AWS requests it made. Run as a script, this file is that child.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ApiCounter, read_units


@dataclass(frozen=True)
class WorkerFigures:
    """Medians over the measured batches of one size (per batch)."""

    batch_size: int
    cpu_s: float
    wall_s: float
    endpoint_s: float
    peak_mb: float
    dynamodb_requests: float
    read_units: float
    s3_gets: float  # the batch's images (its manifest object's GET not included)
    endpoint_calls: float


def profile(
    stack: Any,
    org: str,
    make_project: Callable[[int, str], str],
    sizes: list[int],
    batches: int,
) -> dict[int, WorkerFigures]:
    """`make_project(tasks, prefix)` gives a project of `org` with that many WAITING tasks."""
    from prelabel.container import Container
    from prelabel.domain.entities import ProjectRef
    from prelabel.ports.labeling import BatchItem

    c = Container(stack.settings)
    figures = {}
    for n in sizes:
        pid = make_project(n * (batches + 1), f"profile-{n}/")
        ref = ProjectRef(org, pid)
        run_id = f"profile-{n}-{int(time.time())}"
        c.run_service.start(ref, confirm=True, run_id=run_id, execution_arn=f"arn:{run_id}")
        ids = list(c.tasks.eligible_ids(ref))
        items = [
            BatchItem(org, pid, run_id, i, tuple(ids[i * n : (i + 1) * n]))
            for i in range(batches + 1)
        ]
        bucket, prefix, _ = c.manifests.write(run_id, iter(items))
        rows = _run_child([[bucket, f"{prefix}{i.batch_no:06d}.json", n] for i in items])
        figures[n] = _medians(n, rows[1:])  # the first batch warmed the process up
    return figures


def _run_child(specs: list[list[Any]]) -> list[dict[str, float]]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve())],
        input=json.dumps(specs),
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=1800,
        check=False,
    )
    rows = [
        json.loads(line[len(ROW) :]) for line in done.stdout.splitlines() if line.startswith(ROW)
    ]
    if done.returncode != 0 or len(rows) != len(specs):
        raise RuntimeError(f"the worker child failed ({done.returncode}): {done.stderr[-2000:]}")
    return rows


def _medians(n: int, rows: list[dict[str, float]]) -> WorkerFigures:
    def med(key: str) -> float:
        return float(statistics.median(r[key] for r in rows))

    return WorkerFigures(
        batch_size=n,
        cpu_s=med("cpu_s"),
        wall_s=med("wall_s"),
        endpoint_s=med("endpoint_s"),
        peak_mb=max(r["peak_mb"] for r in rows),
        dynamodb_requests=med("dynamodb_requests"),
        read_units=med("read_units"),
        s3_gets=med("s3_gets"),
        endpoint_calls=med("endpoint_calls"),
    )


# --- the child ----------------------------------------------------------------------------------

ROW = "worker-profile "


def _peak_mb() -> float:
    """The process's peak resident memory (VmHWM). Not getrusage's ru_maxrss: Linux keeps that
    across fork and exec, so a child of the 1 GB benchmark process would report 1 GB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM in /proc/self/status: the profile needs Linux")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child() -> None:
    """The LabelBatch handler over each manifest object given, as the Distributed Map calls it."""
    counter = ApiCounter().install()  # before any client exists
    counter.recording = True
    from types import SimpleNamespace

    from prelabel.entrypoints.label_batch import handler

    context = SimpleNamespace(
        function_name="LabelBatchFunction",
        memory_limit_in_mb=1024,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:LabelBatchFunction",
        aws_request_id="profile",
    )
    for bucket, key, n in json.loads(sys.stdin.read()):
        first = len(counter.calls)
        cpu, started = _cpu_seconds(), time.perf_counter()
        report = handler({"bucket": bucket, "key": key, "retryCount": 0}, context)
        wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        if report["outcome"] != "committed" or report["labeled"] != n:
            raise SystemExit(f"{key}: {report}")
        print(ROW + json.dumps(_row(report, counter.calls[first:], cpu, wall)), flush=True)


def _row(report: dict[str, Any], calls: list[Any], cpu: float, wall: float) -> dict[str, float]:
    ops = Counter((c.service, c.operation) for c in calls)
    endpoint = report.get("endpoint") or {}
    return {
        "cpu_s": cpu,
        "wall_s": wall,
        "endpoint_s": float(endpoint.get("ms", 0.0)) / 1000,
        "peak_mb": _peak_mb(),
        "dynamodb_requests": sum(n for (s, _), n in ops.items() if s == "dynamodb"),
        "read_units": sum(read_units(c) for c in calls if c.service == "dynamodb"),
        # The images; the manifest object's GET is counted on its own in the cost model.
        "s3_gets": ops[("s3", "GetObject")] - 1,
        "endpoint_calls": ops[("sagemaker-runtime", "InvokeEndpoint")],
    }


if __name__ == "__main__":
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    _child()
