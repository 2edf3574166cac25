"""The batch worker: claim, fetch, preprocess, detect, map, and commit charge + labels at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from prelabel.domain.entities import RunSnapshot, RunStatus
from prelabel.domain.errors import StorageError
from prelabel.domain.prelabels import labels_from_detections
from prelabel.imaging.preprocess import ImageRejected, PreparedImage, prepare_image
from prelabel.ports.organizations import Ledger
from prelabel.ports.tasks import RunRepository
from prelabel.ports.workflow import (
    BatchCommit,
    BatchItem,
    ClaimStore,
    Detector,
    DetectorUnavailable,
    DoneTask,
    ImageSource,
    ImageUnavailable,
    TaskImage,
)

MAX_COMMIT_ATTEMPTS = 8


@dataclass
class LabelingDeps:
    runs: RunRepository
    ledger: Ledger
    claims: ClaimStore
    images: ImageSource
    detector: Detector
    input_size: int = 416
    lease_s: int = 900
    max_image_bytes: int = 50 * 1024 * 1024
    fetch_threads: int = 8
    clock: Callable[[], float] = time.time


@dataclass
class BatchReport:
    run_id: str
    batch_no: int
    outcome: str  # committed | already_committed | run_not_running
    labeled: int = 0
    failed: int = 0
    skipped_quota: int = 0
    withdrawn: int = 0
    images_sent: int = 0
    endpoint_ms: float = 0.0


def _load(deps: LabelingDeps, task: TaskImage) -> PreparedImage | str:
    """The prepared image, or the reason the task fails (a string)."""
    try:
        data = deps.images.fetch(task.bucket, task.image_key, deps.max_image_bytes)
        return prepare_image(data, deps.input_size)
    except (ImageUnavailable, ImageRejected) as exc:
        return str(exc)


def label_batch(deps: LabelingDeps, item: BatchItem) -> BatchReport:
    if deps.claims.batch_committed(item.run_id, item.batch_no):
        return BatchReport(item.run_id, item.batch_no, "already_committed")
    run = deps.runs.get(item.ref, item.run_id)
    if run.status is not RunStatus.RUNNING or run.snapshot is None:
        # Stopping: leave the batch untouched; finishing releases nothing of it.
        return BatchReport(item.run_id, item.batch_no, "run_not_running")
    now = deps.clock()
    candidates = deps.claims.eligible_images(item.ref, item.task_ids, item.run_id, now)
    # Read the limit first so the GPU never sees images that could not be charged.
    remaining = deps.ledger.remaining(item.org_id)
    chargeable, over_quota = candidates[:remaining], candidates[remaining:]
    claimed = deps.claims.claim(item.ref, chargeable, item.run_id, now, deps.lease_s)
    commit = BatchCommit(
        item,
        skipped_quota=len(over_quota),
        withdrawn=len(item.task_ids) - len(candidates) + len(chargeable) - len(claimed),
    )
    report = BatchReport(item.run_id, item.batch_no, "committed")
    if claimed:
        try:
            _detect_into(deps, run.snapshot, claimed, commit, report)
        except DetectorUnavailable:
            deps.claims.release(item.ref, [t.task_id for t in claimed], item.run_id)
            raise
    commit_batch(deps, commit)
    report.labeled = len(commit.done)
    report.failed = len(commit.failed)
    report.skipped_quota = commit.skipped_quota
    report.withdrawn = commit.withdrawn
    return report


def _detect_into(
    deps: LabelingDeps,
    snapshot: RunSnapshot,
    claimed: Sequence[TaskImage],
    commit: BatchCommit,
    report: BatchReport,
) -> None:
    with ThreadPoolExecutor(max_workers=min(deps.fetch_threads, len(claimed))) as pool:
        loaded = list(pool.map(lambda t: _load(deps, t), claimed))
    ready: list[tuple[TaskImage, PreparedImage]] = []
    for task, result in zip(claimed, loaded, strict=True):
        if isinstance(result, str):
            commit.failed.append((task.task_id, result))
        else:
            ready.append((task, result))
    if not ready:
        return
    started = time.perf_counter()
    detections = deps.detector.detect([prepared.payload for _, prepared in ready])
    report.endpoint_ms = (time.perf_counter() - started) * 1000
    report.images_sent = len(ready)
    model = (detections.model_name, detections.model_version)
    for (task, prepared), answer in zip(ready, detections.results, strict=True):
        if answer.error is not None:
            commit.failed.append((task.task_id, f"detector: {answer.error}"))
            continue
        labels = labels_from_detections(
            answer.detections,
            snapshot,
            scale=prepared.scale,
            image_size=(prepared.width, prepared.height),
            model=model,
            task_id=task.task_id,
        )
        commit.done.append(DoneTask(task.task_id, labels, prepared.width, prepared.height))


def commit_batch(deps: LabelingDeps, commit: BatchCommit) -> None:
    """One transaction; on a short limit keep what fits, on a lost lease drop that task."""
    for _ in range(MAX_COMMIT_ATTEMPTS):
        result = deps.claims.commit(commit)
        if result.committed or result.already_committed:
            return
        if result.quota_left is not None:
            keep = max(result.quota_left, 0)
            moved = commit.done[keep:]
            commit.done = commit.done[:keep]
            commit.released += [d.task_id for d in moved]
            commit.skipped_quota += len(moved)
        if result.lost_task_ids:
            # The lease went to someone else (or a stop released it): not ours to label, charge
            # or count; the run reports such tasks as left.
            lost = set(result.lost_task_ids)
            commit.done = [d for d in commit.done if d.task_id not in lost]
            commit.failed = [f for f in commit.failed if f[0] not in lost]
            released_lost = [t for t in commit.released if t in lost]
            commit.released = [t for t in commit.released if t not in lost]
            commit.skipped_quota -= len(released_lost)
    raise StorageError(f"batch {commit.item.batch_no} could not be committed")
