"""Image bytes and run manifests in S3."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from prelabel.adapters.s3_client import S3Adapter
from prelabel.domain.errors import StorageError
from prelabel.ports.images import ImageSource, ImageUnavailable
from prelabel.ports.labeling import BatchItem
from prelabel.ports.orchestration import ManifestStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MISSING = {"NoSuchKey", "404", "NoSuchBucket", "AccessDenied", "403"}
# Manifest objects are written this many at a time (a million images are ~31,000 batches).
PUT_THREADS = 16


class S3ImageSource(S3Adapter, ImageSource):
    def fetch(self, bucket: str, key: str, max_bytes: int) -> bytes:
        try:
            obj = self._s3.get_object(Bucket=bucket, Key=key)
            size = obj["ContentLength"]
            if size > max_bytes:
                obj["Body"].close()
                raise ImageUnavailable(f"file too large: {size} bytes (limit {max_bytes})")
            return obj["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in MISSING:
                raise ImageUnavailable(f"image not readable from S3 ({code})") from exc
            raise StorageError(f"reading s3://{bucket}/{key} failed: {code}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"reading s3://{bucket}/{key} failed: {exc}") from exc


class S3ManifestStore(S3Adapter, ManifestStore):
    """One small object per batch under the run's prefix: the Distributed Map lists them.

    (A single JSON array would need the ItemReader's `InputType`, which moto's interpreter and
    statelint disagree on; a listing reads the same everywhere and costs one PUT and one GET per
    batch of 32 images.)
    """

    def __init__(self, make_client: Callable[[], S3Client], bucket: str) -> None:
        super().__init__(make_client)
        self._bucket = bucket

    def write(self, run_id: str, items: Iterable[BatchItem]) -> tuple[str, str, int]:
        prefix = f"runs/{run_id}/batches/"
        written = 0
        in_flight: deque[Future[None]] = deque()
        try:
            with ThreadPoolExecutor(max_workers=PUT_THREADS) as pool:
                for item in items:
                    in_flight.append(pool.submit(self._put, prefix, item))
                    written += 1
                    if len(in_flight) >= 4 * PUT_THREADS:  # bounded memory at any run size
                        in_flight.popleft().result()
                for future in in_flight:
                    future.result()
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"writing the run manifest failed: {exc}") from exc
        return self._bucket, prefix, written

    def _put(self, prefix: str, item: BatchItem) -> None:
        self._s3.put_object(
            Bucket=self._bucket,
            Key=f"{prefix}{item.batch_no:06d}.json",
            Body=json.dumps(batch_item_to_json(item)).encode(),
            ContentType="application/json",
        )

    def read(self, bucket: str, key: str) -> BatchItem:
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"reading batch s3://{bucket}/{key} failed: {exc}") from exc
        return batch_item_from_json(json.loads(body))


def batch_item_to_json(item: BatchItem) -> dict[str, object]:
    return {
        "orgId": item.org_id,
        "projectId": item.project_id,
        "runId": item.run_id,
        "batchNo": item.batch_no,
        "taskIds": list(item.task_ids),
    }


def batch_item_from_json(doc: dict[str, object]) -> BatchItem:
    """The manifest item as the Distributed Map hands it to the worker."""
    task_ids = doc["taskIds"]
    assert isinstance(task_ids, list)
    return BatchItem(
        org_id=str(doc["orgId"]),
        project_id=str(doc["projectId"]),
        run_id=str(doc["runId"]),
        batch_no=int(str(doc["batchNo"])),
        task_ids=tuple(str(t) for t in task_ids),
    )
