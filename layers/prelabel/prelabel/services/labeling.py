"""The batch worker: read, fetch, prepare, detect, map, and commit charge + pre-labels at once.

Nothing is written before the commit, and the commit is one transaction that only a RUNNING
run can make; so a stop, a crash or a retry never leaves half a batch behind.

A batch that is retried after its worker died is prepared one image at a time, each noted in
the crash log first: the next attempt then knows which image was in hand, and an image that
takes the worker down twice ends FAILED instead of taking its batch-mates with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from prelabel.domain.detector_models import target_model
from prelabel.domain.entities import RunSnapshot, RunStatus
from prelabel.domain.errors import Busy, StorageError
from prelabel.domain.locations import OUTSIDE_LOCATIONS_REASON, is_readable
from prelabel.domain.mapping import detector_score_floor
from prelabel.domain.prelabels import labels_from_detections
from prelabel.imaging.budget import DEFAULT_BUDGET_BYTES, ByteBudget, prepare_batch
from prelabel.imaging.preprocess import PreparedImage
from prelabel.ports.detector import Detections, Detector, DetectorUnavailable
from prelabel.ports.images import ImageSource
from prelabel.ports.labeling import (
    BatchCommit,
    BatchItem,
    BatchStore,
    CrashLog,
    DoneTask,
    FailedTask,
    Suspect,
    TaskImage,
)
from prelabel.ports.organizations import Ledger
from prelabel.ports.runs import RunRepository
from prelabel.quality.priority import labels_priority
from prelabel.services.locations import LocationService

MAX_COMMIT_ATTEMPTS = 8
# An image that was being decoded alone when the worker died this many times is the culprit.
CRASHES_TO_FAIL = 2
CRASH_REASON = (
    "the worker stopped {n} times while decoding this image (out of memory or killed); "
    "it is left out so the rest of its batch can be pre-labeled"
)


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    input_size: int = 416
    max_image_bytes: int = 50 * 1024 * 1024
    fetch_threads: int = 8
    # Fetched files and decoded pixels held at once (see prelabel.imaging.budget).
    image_budget_bytes: int = DEFAULT_BUDGET_BYTES


@dataclass(frozen=True, slots=True)
class EndpointCall:
    """The batch's one call to the detector: how many images it got, how long it took."""

    images: int
    ms: float


@dataclass
class BatchReport:
    run_id: str
    batch_no: int
    outcome: str  # committed | already_committed | run_not_running
    labeled: int = 0
    failed: int = 0
    skipped_quota: int = 0
    withdrawn: int = 0
    endpoint: EndpointCall | None = None  # None: no image of the batch reached the detector
    isolated: bool = False


Prepared = PreparedImage | str  # the prepared image, or the reason its task fails


@dataclass(frozen=True, kw_only=True)
class BatchWorker:
    runs: RunRepository
    ledger: Ledger
    batches: BatchStore
    crash_log: CrashLog
    images: ImageSource
    detector: Detector
    locations: LocationService
    settings: WorkerSettings = field(default_factory=WorkerSettings)
    clock: Callable[[], float] = time.perf_counter

    def label_batch(self, item: BatchItem, attempt: int = 0) -> BatchReport:
        """`attempt` counts the workflow's retries of this batch (0 the first time)."""
        if self.batches.batch_committed(item.run_id, item.batch_no):
            return BatchReport(item.run_id, item.batch_no, "already_committed")
        run = self.runs.get(item.ref, item.run_id)
        if run.status is not RunStatus.RUNNING:
            return BatchReport(item.run_id, item.batch_no, "run_not_running")
        snapshot = self.runs.snapshot(item.ref, item.run_id)
        candidates = self.batches.batch_images(item.ref, item.task_ids)
        # Read the limit first so the GPU never sees images that could not be charged.
        remaining = max(self.ledger.remaining(item.org_id), 0)
        chargeable = candidates[:remaining]
        commit = BatchCommit(
            item,
            skipped_quota=len(candidates) - len(chargeable),
            withdrawn=len(item.task_ids) - len(candidates),
        )
        report = BatchReport(item.run_id, item.batch_no, "committed", isolated=attempt > 0)
        chargeable = self._inside_locations(item, chargeable, commit)
        if chargeable:
            if attempt > 0:
                prepared = self._prepare_isolated(item, chargeable, commit)
            else:
                prepared = self._prepare_together(chargeable)
            self._detect_into(item.org_id, snapshot, prepared, commit, report)
        if not self.commit(commit):
            return BatchReport(item.run_id, item.batch_no, "run_not_running")
        report.labeled = len(commit.done)
        report.failed = len(commit.failed)
        report.skipped_quota = commit.skipped_quota
        report.withdrawn = commit.withdrawn
        return report

    def _inside_locations(
        self, item: BatchItem, tasks: Sequence[TaskImage], commit: BatchCommit
    ) -> list[TaskImage]:
        """A task whose key lies outside its organization's locations fails, unread and free."""
        locations = self.locations.locations(item.org_id)
        inside = []
        for task in tasks:
            if is_readable(locations, task.bucket, task.image_key):
                inside.append(task)
            else:
                commit.failed.append(FailedTask(task.task_id, OUTSIDE_LOCATIONS_REASON))
        return inside

    # --- preparing images -------------------------------------------------------------------

    def _prepare(self, tasks: Sequence[TaskImage], threads: int) -> list[Prepared]:
        cfg = self.settings
        blobs = [
            partial(self.images.fetch, t.bucket, t.image_key, cfg.max_image_bytes) for t in tasks
        ]
        return prepare_batch(
            blobs,
            target=cfg.input_size,
            budget=ByteBudget(cfg.image_budget_bytes),
            threads=threads,
            max_file_bytes=cfg.max_image_bytes,
        )

    def _prepare_together(self, tasks: Sequence[TaskImage]) -> list[tuple[TaskImage, Prepared]]:
        prepared = self._prepare(tasks, self.settings.fetch_threads)
        return list(zip(tasks, prepared, strict=True))

    def _prepare_isolated(
        self, item: BatchItem, tasks: Sequence[TaskImage], commit: BatchCommit
    ) -> list[tuple[TaskImage, Prepared]]:
        """One image at a time, each noted before it is decoded (a retried batch only)."""
        suspect = self.crash_log.suspect(item.run_id, item.batch_no)
        crashes = {suspect.task_id: suspect.crashes + 1} if suspect else {}
        prepared: list[tuple[TaskImage, Prepared]] = []
        for task in tasks:
            n = crashes.get(task.task_id, 0)
            if n >= CRASHES_TO_FAIL:
                commit.failed.append(FailedTask(task.task_id, CRASH_REASON.format(n=n)))
                continue
            self.crash_log.note(item.run_id, item.batch_no, Suspect(task.task_id, n))
            try:
                prepared.append((task, self._prepare([task], threads=1)[0]))
            except Exception:
                # An error the process survived is not the image's doing: only a death (no
                # chance to run this) leaves the note for the next attempt.
                self.crash_log.clear(item.run_id, item.batch_no)
                raise
        self.crash_log.clear(item.run_id, item.batch_no)
        return prepared

    # --- detecting ----------------------------------------------------------------------------

    def _detect_into(
        self,
        org_id: str,
        snapshot: RunSnapshot,
        prepared: Sequence[tuple[TaskImage, Prepared]],
        commit: BatchCommit,
        report: BatchReport,
    ) -> None:
        ready: list[tuple[TaskImage, PreparedImage]] = []
        for task, result in prepared:
            if isinstance(result, str):
                commit.failed.append(FailedTask(task.task_id, result))
            else:
                ready.append((task, result))
        if not ready:
            return
        # Boxes down to the mapping's lowest threshold: a fixed floor would cut lower ones off.
        floor = detector_score_floor(snapshot.mapping, snapshot.default_threshold)
        started = self.clock()
        detections = self._detect(org_id, snapshot, [image.payload for _, image in ready], floor)
        report.endpoint = EndpointCall(len(ready), (self.clock() - started) * 1000)
        model = (detections.model_name, detections.model_version)
        commit.model = model
        thresholds = snapshot.mapping.thresholds(snapshot.default_threshold)
        for (task, image), answer in zip(ready, detections.results, strict=True):
            if answer.error is not None:
                commit.failed.append(FailedTask(task.task_id, f"detector: {answer.error}"))
                continue
            labels = labels_from_detections(
                answer.detections,
                snapshot,
                scale=image.scale,
                image_size=(image.width, image.height),
                model=model,
                task_id=task.task_id,
            )
            review = labels_priority(labels, thresholds, snapshot.default_threshold)
            commit.done.append(
                DoneTask(task.task_id, labels, image.width, image.height, review=review)
            )

    def _detect(
        self, org_id: str, snapshot: RunSnapshot, payloads: list[bytes], floor: float
    ) -> Detections:
        """The run's model: the built-in, or the organization's version named by TargetModel,
        which starts with the batch's own organization and comes from the run's snapshot (the
        project's record at start), never from a request."""
        pick = snapshot.model
        if pick is None:
            return self.detector.detect(payloads, score_floor=floor)
        target = target_model(org_id, pick.model_id, pick.version)
        detections = self.detector.detect(payloads, score_floor=floor, target_model=target)
        if detections.model_version != pick.version:
            # Class ids index the picked model's classes: another model's boxes would be
            # mislabeled, so the batch waits for a retry instead.
            raise DetectorUnavailable(
                f"TargetModel {target} was answered by model version "
                f"{detections.model_version[:80]!r}, not {pick.version}"
            )
        return detections

    # --- committing ---------------------------------------------------------------------------

    def commit(self, commit: BatchCommit) -> bool:
        """One transaction; on a short limit keep what fits. False: the run no longer takes
        work (stopped or finished), and nothing of the batch was written."""
        for _ in range(MAX_COMMIT_ATTEMPTS):
            try:
                result = self.batches.commit(commit)
            except Busy:
                # A concurrent transaction on the limit or counters: the same commit again.
                time.sleep(0.05)
                continue
            if result.committed or result.already_committed:
                return True
            if result.run_closed:
                return False
            if result.quota_left is not None:
                keep = max(result.quota_left, 0)
                # Not charged, not labeled: the tasks stay eligible for a later run.
                commit.skipped_quota += len(commit.done[keep:])
                commit.done = commit.done[:keep]
            if result.taken_task_ids:
                # Pre-labeled from elsewhere meanwhile: not ours to write, charge or count.
                commit.withdrawn += commit.drop(set(result.taken_task_ids))
        raise StorageError(f"batch {commit.item.batch_no} could not be committed")
