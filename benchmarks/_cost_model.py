"""From what a run was measured to do to its bill per 1,000 images, at any batch size and
LabelBatch memory: the table workflow_cost.py picks the template's defaults from.

Measured here: the worker's CPU seconds, peak memory and AWS requests per batch at each batch
size (_worker_profile.py), and what the whole run wrote, read and transitioned (the counted run
of workflow_cost.py, split into what each image, each batch and the run cost).

Taken from AWS's documentation, not measurable here (the local DynamoDB, S3 and endpoint run on
this machine's 2 shared cores, so their latencies say nothing about AWS's):
- Lambda gives a function CPU in proportion to its memory, one full vCPU at 1,769 MB; so the
  worker's CPU seconds take 1,769 / memory times as long below that (above it, more vCPUs help
  only threaded work: no speed-up is counted, which errs towards the cost);
- the latencies below, for the requests the worker waits on one after the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from _worker_profile import WorkerFigures

LAMBDA_MB_PER_VCPU = 1769
DYNAMODB_REQUEST_S = 0.006  # one in-region request, single-digit milliseconds
S3_GET_S = 0.025  # first byte of a small object from S3 Standard
ENDPOINT_OVERHEAD_S = 0.015  # SageMaker's per-invocation overhead (its OverheadLatency metric)
FETCH_THREADS = 8  # WorkerSettings.fetch_threads: the batch's images are fetched 8 at a time
EXPRESS_OVERHEAD_S = 0.05  # an Express child's own time around its one Lambda call
EXPRESS_MEMORY_GB = 0.064  # Express bills 64 MB steps; these children use the first
# The worker's peak on the hostile batch (18 photos of 12 MP, 7000-px PNGs, a CMYK JPEG, WebP:
# benchmarks/worker.py, label_batch with the default 320 MB image budget): 397 MB. Photos peak
# far lower, but a function must hold what its batches may bring.
HOSTILE_PEAK_MB = 397.0
HEADROOM = 1.25  # memory >= 1.25 x the peak, so a bad batch is not one byte from being killed
MAX_BATCH_SECONDS = 60.0  # a batch stays far inside LabelBatch's 300 s timeout


@dataclass(frozen=True)
class RunShape:
    """The counted run, split into what scales with images, with batches, and with runs."""

    images: int
    parent_transitions: float  # Prepare, the Map, Finish, the Choice, the end
    wcu_per_image: float  # the pre-label put
    wcu_per_batch: float  # receipt, run counters, limit, project counters
    wcu_per_run: float  # run and snapshot created, finished; project marked and cleared
    rru_per_run: float  # the reads outside the worker (start, Prepare's listing, Finish)
    s3_lists_per_run: float  # the Map's listing of the manifest
    other_lambda_usd_per_run: float  # Prepare and Finish, requests and GB-s
    prices: dict[str, float]


def batch_seconds(w: WorkerFigures, memory_mb: int, endpoint_s: float) -> tuple[float, float]:
    """(the worker's own seconds per batch, with the endpoint's) at `memory_mb`."""
    cpu = w.cpu_s * LAMBDA_MB_PER_VCPU / min(memory_mb, LAMBDA_MB_PER_VCPU)
    waits = (
        w.dynamodb_requests * DYNAMODB_REQUEST_S
        + S3_GET_S  # the batch's manifest object
        + math.ceil(w.s3_gets / FETCH_THREADS) * S3_GET_S
    )
    own = cpu + waits
    return own, own + endpoint_s


def endpoint_seconds(w: WorkerFigures, gpu_images_per_second: float | None) -> float:
    """The endpoint's time for one batch: on a GPU at that rate with nothing queued, or as
    measured here on this CPU."""
    if gpu_images_per_second is None:
        return w.endpoint_s
    calls = max(w.endpoint_calls, 1.0)
    return calls * ENDPOINT_OVERHEAD_S + w.batch_size / gpu_images_per_second


def fits(w: WorkerFigures, memory_mb: int, seconds: float) -> bool:
    peak = max(w.peak_mb, HOSTILE_PEAK_MB)
    return memory_mb >= HEADROOM * peak and seconds <= MAX_BATCH_SECONDS


def bill(
    shape: RunShape,
    w: WorkerFigures,
    memory_mb: int,
    gpu: tuple[float, float] | None,
) -> list[tuple[str, float, float]]:
    """(item, count per 1,000 images, USD per 1,000 images) for a run of `shape.images` images
    in batches of `w.batch_size` on a worker of `memory_mb`; `gpu` = (images/s, USD per hour)
    prices the endpoint busy at that rate, None leaves it out (the CPU here is no GPU)."""
    p = shape.prices
    per_k = 1000 / shape.images
    batches = math.ceil(shape.images / w.batch_size)
    _, seconds = batch_seconds(w, memory_mb, endpoint_seconds(w, gpu[0] if gpu else None))
    billed = math.ceil(seconds * 1000) / 1000
    express = math.ceil((seconds + EXPRESS_OVERHEAD_S) * 10) / 10
    rows = [
        ("SFN standard transitions", shape.parent_transitions + batches, p["sfn_transition"]),
        ("SFN EXPRESS child requests", batches, p["sfn_express_request"]),
        ("SFN EXPRESS child GB-s", batches * express * EXPRESS_MEMORY_GB, p["sfn_express_gb_s"]),
        ("Lambda LabelBatch requests", batches, p["lambda_request"]),
        ("Lambda LabelBatch GB-s", batches * billed * memory_mb / 1024, p["lambda_gb_s"]),
        ("Lambda Prepare + Finish (runs)", 1, shape.other_lambda_usd_per_run),
        (
            "DynamoDB write request units",
            shape.wcu_per_image * shape.images + shape.wcu_per_batch * batches + shape.wcu_per_run,
            p["dynamodb_wru"],
        ),
        ("DynamoDB read request units", w.read_units * batches + shape.rru_per_run, p["rru"]),
        ("S3 PUT/COPY/POST/LIST", batches + shape.s3_lists_per_run, p["s3_put"]),
        ("S3 GET", shape.images + batches, p["s3_get"]),
    ]
    if gpu:
        rows.append(("SageMaker GPU hours", shape.images / (3600 * gpu[0]), gpu[1]))
    return [(what, count * per_k, count * per_k * price) for what, count, price in rows]


def cost_per_k(rows: list[tuple[str, float, float]]) -> float:
    return sum(usd for _, _, usd in rows)
