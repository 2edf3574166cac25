"""Model files in the models bucket: presigned POSTs for uploads, the streamed read the
validation job hashes, artifacts for the endpoint, and removal of a deleted model's files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from prelabel.adapters.s3_client import S3Adapter
from prelabel.domain.errors import StorageError
from prelabel.ports.detector_models import Fetched, FileTooLarge, ModelFiles, UploadForm

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

CHUNK = 1 << 20
MISSING = ("404", "NoSuchKey", "NotFound")


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in MISSING


class S3ModelFiles(S3Adapter, ModelFiles):
    """The client signs with SigV4 (`signature_version="s3v4"`): presigned POSTs included."""

    def __init__(self, make_client: Callable[[], S3Client], bucket: str) -> None:
        super().__init__(make_client)
        self._bucket = bucket

    def upload_form(self, key: str, max_bytes: int, expires_in: int) -> UploadForm:
        # The policy names the one key (no starts-with) and the size range: the form cannot
        # write anywhere else, nor more than the limit (S3 refuses it before storing).
        conditions: list[object] = [["content-length-range", 1, max_bytes]]
        try:
            post = self._s3.generate_presigned_post(
                self._bucket, key, Conditions=conditions, ExpiresIn=expires_in
            )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"signing an upload form for {key} failed: {exc}") from exc
        fields = {str(k): str(v) for k, v in post["fields"].items()}
        return UploadForm(str(post["url"]), fields, key, expires_in, max_bytes)

    def _read(self, key: str, call: Callable[..., Any]) -> Any:
        """`call(Bucket, Key)`'s answer; None when there is no such object."""
        try:
            return call(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise StorageError(f"reading s3://{self._bucket}/{key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"reading s3://{self._bucket}/{key} failed: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._read(key, self._s3.head_object) is not None

    def fetch(self, key: str, destination: Path, max_bytes: int) -> Fetched | None:
        reply = self._read(key, self._s3.get_object)
        if reply is None:
            return None
        body = reply["Body"]
        if int(reply.get("ContentLength", 0)) > max_bytes:
            body.close()
            raise FileTooLarge(int(reply["ContentLength"]))
        digest = hashlib.sha256()
        size = 0
        try:
            with destination.open("wb") as out:
                for chunk in body.iter_chunks(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:  # a length that lied: stop reading there
                        raise FileTooLarge(size)
                    digest.update(chunk)
                    out.write(chunk)
        except FileTooLarge:
            destination.unlink(missing_ok=True)
            raise
        except (ClientError, BotoCoreError, OSError) as exc:
            destination.unlink(missing_ok=True)
            raise StorageError(f"reading s3://{self._bucket}/{key} failed: {exc}") from exc
        finally:
            body.close()
        return Fetched(size, digest.hexdigest())

    def put(self, key: str, source: Path) -> None:
        # One PUT takes up to 5 GB; an artifact is at most a 512 MB model and its descriptor.
        try:
            with source.open("rb") as body:
                self._s3.put_object(Bucket=self._bucket, Key=key, Body=body)
        except (ClientError, BotoCoreError, OSError) as exc:
            raise StorageError(f"writing s3://{self._bucket}/{key} failed: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self._bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"deleting s3://{self._bucket}/{key} failed: {exc}") from exc

    def delete_prefix(self, prefix: str) -> int:
        removed = 0
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=prefix
            )
            for page in pages:
                keys: list[ObjectIdentifierTypeDef] = [
                    {"Key": o["Key"]} for o in page.get("Contents", [])
                ]
                if keys:
                    self._s3.delete_objects(
                        Bucket=self._bucket, Delete={"Objects": keys, "Quiet": True}
                    )
                    removed += len(keys)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"deleting s3://{self._bucket}/{prefix} failed: {exc}") from exc
        return removed
