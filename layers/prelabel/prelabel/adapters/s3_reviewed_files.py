"""Files of reviewed-label imports and quality jobs in S3: presigned POSTs for the browser's
upload, the uploaded file read whole (bounded), and the jobs' working files."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from prelabel.adapters.s3_client import S3Adapter
from prelabel.domain.errors import InvalidInput, StorageError
from prelabel.ports.reviewed_files import ReviewedFiles, SignedUpload

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REFUSED = {"NoSuchBucket", "NoSuchKey", "AccessDenied", "403", "404"}
DELETE_AT_ONCE = 1000


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3ReviewedFiles(S3Adapter, ReviewedFiles):
    """The client must sign with SigV4 (`signature_version="s3v4"`): a POST policy signed
    with SigV2 is refused by every region opened since 2014."""

    def __init__(self, make_client: Callable[[], S3Client], bucket: str) -> None:
        super().__init__(make_client)
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def signed_upload(self, key: str, max_bytes: int, expires_in: int) -> SignedUpload:
        try:
            post = self._s3.generate_presigned_post(
                Bucket=self._bucket,
                Key=key,
                Conditions=[["content-length-range", 1, max_bytes]],
                ExpiresIn=expires_in,
            )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"signing an upload to s3://{self._bucket}/{key} failed") from exc
        fields = {str(k): str(v) for k, v in post["fields"].items()}
        return SignedUpload(str(post["url"]), fields, self._bucket, key, max_bytes, expires_in)

    def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        where = f"s3://{bucket}/{key}"
        try:
            obj = self._s3.get_object(Bucket=bucket, Key=key)
            size = int(obj["ContentLength"])
            if size > max_bytes:
                obj["Body"].close()
                raise InvalidInput(
                    f"key: {where} holds {size:,} bytes; at most {max_bytes:,} are read",
                    field="key",
                )
            return obj["Body"].read()
        except ClientError as exc:
            if _code(exc) in REFUSED:
                raise InvalidInput(
                    f"key: {where} cannot be read ({_code(exc)})", field="key"
                ) from exc
            raise StorageError(f"reading {where} failed: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"reading {where} failed: {exc}") from exc

    def put(self, key: str, data: bytes) -> None:
        try:
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"writing s3://{self._bucket}/{key} failed: {exc}") from exc

    def get(self, key: str) -> bytes | None:
        try:
            return self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return None
            raise StorageError(f"reading s3://{self._bucket}/{key} failed") from exc
        except BotoCoreError as exc:
            raise StorageError(f"reading s3://{self._bucket}/{key} failed: {exc}") from exc

    def delete_prefix(self, prefix: str) -> int:
        removed = 0
        args: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix}
        try:
            while True:
                page = self._s3.list_objects_v2(**args, MaxKeys=DELETE_AT_ONCE)
                keys: list[Any] = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    self._s3.delete_objects(
                        Bucket=self._bucket, Delete={"Objects": keys, "Quiet": True}
                    )
                    removed += len(keys)
                token = page.get("NextContinuationToken")
                if not page.get("IsTruncated") or not token:
                    return removed
                args["ContinuationToken"] = token
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"removing s3://{self._bucket}/{prefix} failed: {exc}") from exc
