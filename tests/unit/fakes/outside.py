"""Fakes of what lies outside the database: S3 objects, the detector, the workflow engine."""

from __future__ import annotations

import gzip
import io
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

from prelabel.detector_wire import Detection, ImageResult
from prelabel.domain.errors import InvalidInput
from prelabel.domain.imports import ObjectRef
from prelabel.domain.jobs import Job
from prelabel.domain.slices import SliceItem, job_folder
from prelabel.ports.capacity import (
    EndpointCapacityReader,
    EndpointCapacityUnreadable,
    EndpointReading,
)
from prelabel.ports.detector import Detections, Detector, DetectorUnavailable
from prelabel.ports.images import ImageLinks, ImageSource, ImageUnavailable
from prelabel.ports.labeling import BatchItem
from prelabel.ports.objects import (
    DatasetObjects,
    ExportFiles,
    LinesRead,
    ListingPage,
    Piece,
    SlicePlans,
)
from prelabel.ports.orchestration import ExecutionGone, ManifestStore, Orchestrator


class MemoryObjects(ImageSource, DatasetObjects):
    """Buckets of objects: the worker fetches them, imports list them and read manifests as
    S3 does (keys in order, pages after a token; plain manifests by byte position, gzip ones
    decompressed from the start, skipping the lines read before)."""

    def __init__(self, buckets: Iterable[str] = ()) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.fetched: list[str] = []
        self.listed: list[tuple[str, str]] = []
        self.buckets = set(buckets)
        self._lock = threading.Lock()

    def put(self, bucket: str, key: str, body: bytes) -> None:
        self.buckets.add(bucket)
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

    def list_page(
        self,
        bucket: str,
        prefix: str,
        token: str | None,
        max_keys: int,
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
    ) -> ListingPage:
        """As ListObjectsV2: keys in order after the token (or `start_after`); with a
        delimiter, the keys below a further delimiter show once as their folder."""
        if bucket not in self.buckets:
            raise InvalidInput(
                f"bucket: s3://{bucket} cannot be listed (NoSuchBucket)", field="bucket"
            )
        self.listed.append((bucket, prefix))
        entries: list[tuple[str, bool]] = []  # (key or folder, is a folder)
        for k in sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix)):
            cut = k.find(delimiter, len(prefix)) if delimiter else -1
            entry = (k, False) if cut < 0 else (k[: cut + len(delimiter or "")], True)
            if not entries or entries[-1] != entry:
                entries.append(entry)
        after = token or start_after
        page = [e for e in entries if after is None or e[0] > after][:max_keys]
        more = len(page) == max_keys and page[-1] != entries[-1]
        objects = [
            ObjectRef(bucket, e, len(self.objects[(bucket, e)])) for e, folder in page if not folder
        ]
        folders = [e for e, folder in page if folder]
        return ListingPage(objects, page[-1][0] if more else None, folders)

    def _manifest(self, bucket: str, key: str) -> bytes:
        body = self.objects.get((bucket, key))
        if body is None:
            raise InvalidInput(
                f"manifest_key: s3://{bucket}/{key} cannot be read", field="manifest_key"
            )
        return body

    def size(self, bucket: str, key: str) -> int:
        return len(self._manifest(bucket, key))

    def line_start(self, bucket: str, key: str, offset: int) -> int:
        body = self._manifest(bucket, key)
        if offset <= 0:
            return 0
        found = body.find(b"\n", offset - 1)
        return len(body) if found < 0 else found + 1

    def read_lines(
        self, bucket: str, key: str, position: int, max_lines: int, end: int | None = None
    ) -> LinesRead:
        body = self._manifest(bucket, key)
        if key.endswith(".gz"):
            lines = gzip.decompress(body).split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            taken = lines[position : position + max_lines]
            at_end = position + len(taken) >= len(lines)
            return LinesRead(taken, position + len(taken), at_end, len(body), len(body))
        stop = len(body) if end is None else min(len(body), end)
        taken = []
        pos = position
        while pos < stop and len(taken) < max_lines:
            line_end = body.find(b"\n", pos)
            line_end = len(body) if line_end < 0 else line_end + 1
            taken.append(body[pos:line_end].rstrip(b"\r\n"))
            pos = line_end
        return LinesRead(taken, pos, pos >= len(body), pos, len(body))


class MemoryExportFiles(ExportFiles):
    """Export files land in `objects` when their block ends without an error."""

    def __init__(self, objects: MemoryObjects, bucket: str) -> None:
        self._objects = objects
        self._bucket = bucket
        self.aborted: list[str] = []
        self.spliced: list[str] = []

    @property
    def bucket(self) -> str:
        return self._bucket

    @contextmanager
    def open(self, key: str, content_type: str) -> Iterator[IO[bytes]]:
        sink = io.BytesIO()
        try:
            yield sink
        except BaseException:
            self.aborted.append(key)
            raise
        self._objects.put(self._bucket, key, sink.getvalue())

    def read_if_any(self, key: str) -> bytes | None:
        return self._objects.objects.get((self._bucket, key))

    def read(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        return self._objects.objects[(self._bucket, key)][start:end]

    def lines(self, key: str) -> Iterator[bytes]:
        return iter(self.read(key).splitlines())

    def splice(self, key: str, content_type: str, pieces: Iterable[Piece]) -> int:
        """The pieces joined (spans read from the stored objects): what S3 assembles."""
        out = b"".join(
            p if isinstance(p, bytes) else self.read(p.key, p.start, p.end) for p in pieces
        )
        self._objects.put(self._bucket, key, out)
        self.spliced.append(key)
        return len(out)

    def remove(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._objects.objects.pop((self._bucket, key), None)


class FakeLinks(ImageLinks):
    def signed_get_url(
        self, bucket: str, key: str, expires_in: int, download_name: str | None = None
    ) -> str:
        return f"https://{bucket}.s3.example/{key}?X-Amz-Expires={expires_in}&name={download_name}"


@dataclass
class ScriptedDetector(Detector):
    """Answers from a function of the image payload, less the boxes under the score floor
    asked for (as the real endpoint drops them); `fail` makes every call unavailable."""

    answer: Callable[[bytes], list[Detection]] = lambda _: []
    fail: bool = False
    calls: list[int] = field(default_factory=list)
    floors: list[float] = field(default_factory=list)
    # The TargetModel of each call, and what the endpoint answers for each one it knows
    # (name, version); unknown ones answer as the built-in, as a real endpoint would not.
    targets: list[str | None] = field(default_factory=list)
    served: dict[str, tuple[str, str]] = field(default_factory=dict)

    def detect(
        self, images: Sequence[bytes], *, score_floor: float, target_model: str | None = None
    ) -> Detections:
        self.calls.append(len(images))
        self.floors.append(score_floor)
        self.targets.append(target_model)
        if self.fail:
            raise DetectorUnavailable("endpoint returned 500 three times")
        results = [
            ImageResult([d for d in self.answer(img) if d.score >= score_floor], error=None)
            for img in images
        ]
        name, version = self.served.get(target_model or "", ("fake-detector", "1"))
        return Detections(name, version, results)


@dataclass
class FakeOrchestrator(Orchestrator):
    started: list[tuple[str, Mapping[str, object]]] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)
    refuse_start: bool = False
    # Executions the engine no longer knows (a local stack that stopped).
    gone: set[str] = field(default_factory=set)

    def start(self, run_id: str, payload: Mapping[str, object]) -> str:
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
        if execution_arn in self.gone:
            raise ExecutionGone(f"no execution {execution_arn}")
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


@dataclass
class FakeEndpoints(EndpointCapacityReader):
    """The control plane's view of detector endpoints: name -> (instances, tagged rate)."""

    endpoints: dict[str, EndpointReading] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def read(self, endpoint_name: str) -> EndpointReading:
        self.asked.append(endpoint_name)
        if endpoint_name not in self.endpoints:
            raise EndpointCapacityUnreadable(f"endpoint {endpoint_name} could not be described")
        return self.endpoints[endpoint_name]


class MemorySlicePlans(SlicePlans):
    """A sliced job's rounds as the Map reads them: one object per slice in `objects`."""

    def __init__(self, objects: MemoryObjects, bucket: str) -> None:
        self._objects = objects
        self._bucket = bucket

    def write(self, job: Job, name: str, items: list[SliceItem]) -> tuple[str, str]:
        ref = job.project
        prefix = f"{job_folder(ref.org_id, ref.project_id, job.job_id)}/{name}/"
        for item in items:
            body = json.dumps(item.to_json()).encode()
            self._objects.put(self._bucket, f"{prefix}{item.number:06d}.json", body)
        return self._bucket, prefix

    def read(self, bucket: str, key: str) -> SliceItem:
        return SliceItem.from_json(json.loads(self._objects.objects[(bucket, key)]))
