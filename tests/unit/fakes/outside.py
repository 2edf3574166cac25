"""Fakes of what lies outside the database: S3 objects, the detector, the workflow engine."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from prelabel.detector_wire import Detection, ImageResult
from prelabel.ports.detector import Detections, Detector, DetectorUnavailable
from prelabel.ports.images import ImageSource, ImageUnavailable
from prelabel.ports.labeling import BatchItem
from prelabel.ports.orchestration import ManifestStore, Orchestrator
from prelabel.ports.projects import ImageLister


class MemoryObjects(ImageSource, ImageLister):
    """A bucket of objects: the worker fetches them, connecting a dataset lists them."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.fetched: list[str] = []
        self.listed: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def put(self, bucket: str, key: str, body: bytes) -> None:
        self.objects[(bucket, key)] = body

    def fetch(self, bucket: str, key: str, max_bytes: int) -> bytes:
        with self._lock:
            self.fetched.append(key)
        body = self.objects.get((bucket, key))
        if body is None:
            raise ImageUnavailable("image not readable from S3 (NoSuchKey)")
        if len(body) > max_bytes:
            raise ImageUnavailable(f"file too large: {len(body)} bytes (limit {max_bytes})")
        return body

    def list_images(self, bucket: str, prefix: str, limit: int) -> list[str]:
        self.listed.append((bucket, prefix))
        keys = sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))
        return keys[: limit + 1]


@dataclass
class ScriptedDetector(Detector):
    """Answers from a function of the image payload; `fail` makes every call unavailable."""

    answer: Callable[[bytes], list[Detection]] = lambda _: []
    fail: bool = False
    calls: list[int] = field(default_factory=list)

    def detect(self, images: Sequence[bytes]) -> Detections:
        self.calls.append(len(images))
        if self.fail:
            raise DetectorUnavailable("endpoint returned 500 three times")
        results = [ImageResult(detections=self.answer(img), error=None) for img in images]
        return Detections("fake-detector", "1", results)


@dataclass
class FakeOrchestrator(Orchestrator):
    started: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)
    refuse_start: bool = False

    def start(self, run_id: str, payload: dict[str, str]) -> str:
        from prelabel.domain.errors import StorageError

        if self.refuse_start:
            raise StorageError("starting the workflow failed: throttled")
        arn = f"arn:exec:{run_id}"
        self.started.append((run_id, payload))
        self.states[arn] = "RUNNING"
        return arn

    def stop(self, execution_arn: str, cause: str) -> None:
        self.stopped.append(execution_arn)
        self.states[execution_arn] = "ABORTED"

    def status(self, execution_arn: str) -> str:
        return self.states.get(execution_arn, "RUNNING")


@dataclass
class MemoryManifests(ManifestStore):
    items: dict[str, list[BatchItem]] = field(default_factory=dict)

    def write(self, run_id: str, items: Iterable[BatchItem]) -> tuple[str, str, int]:
        self.items[run_id] = list(items)
        return "bucket", f"runs/{run_id}/batches/", len(self.items[run_id])

    def read(self, bucket: str, key: str) -> BatchItem:
        run_id = key.split("/")[1]
        number = int(key.rsplit("/", 1)[-1].split(".")[0])
        return self.items[run_id][number]
