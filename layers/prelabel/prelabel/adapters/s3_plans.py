"""Plans of sliced jobs in the data bucket: one small JSON object per slice of a round, under
`jobs/<org>/<project>/<job>/<round>/`, which the jobs state machine's Distributed Map lists
(a listing reads the same in moto and on AWS; see S3ManifestStore)."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from prelabel.adapters.s3_client import S3Adapter
from prelabel.domain.errors import StorageError
from prelabel.domain.jobs import Job
from prelabel.domain.slices import SliceItem, job_folder
from prelabel.ports.objects import SlicePlans

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The slices' objects are written this many at a time (a plan has 1,000 at most).
PUT_THREADS = 16


class S3SlicePlans(S3Adapter, SlicePlans):
    def __init__(self, make_client: Callable[[], S3Client], bucket: str) -> None:
        super().__init__(make_client)
        self._bucket = bucket

    def write(self, job: Job, name: str, items: list[SliceItem]) -> tuple[str, str]:
        ref = job.project
        prefix = f"{job_folder(ref.org_id, ref.project_id, job.job_id)}/{name}/"

        def put(item: SliceItem) -> None:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=f"{prefix}{item.number:06d}.json",
                Body=json.dumps(item.to_json(), separators=(",", ":")).encode(),
                ContentType="application/json",
            )

        try:
            with ThreadPoolExecutor(max_workers=PUT_THREADS) as pool:
                list(pool.map(put, items))
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"writing the job's slices failed: {exc}") from exc
        return self._bucket, prefix

    def read(self, bucket: str, key: str) -> SliceItem:
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"reading slice s3://{bucket}/{key} failed: {exc}") from exc
        return SliceItem.from_json(json.loads(body))
