"""Export files in the data bucket, written as an S3 multipart upload while the export streams:
memory holds one part, whatever the export's size. A large export's slices write parts of
their own, which the last step splices into the file (s3_splice.py) and deletes."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from prelabel.adapters.s3_client import S3Adapter
from prelabel.adapters.s3_splice import Splice
from prelabel.domain.errors import StorageError
from prelabel.ports.objects import ExportFiles, Piece

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# S3 wants parts of at least 5 MiB (but the last); 8 MiB parts allow exports up to 80 GB.
PART_BYTES = 8 * 1024 * 1024


class MultipartSink:
    """A write-only binary stream: `tell` but no `seek`, which zipfile handles (it then writes
    each entry's sizes after its data)."""

    def __init__(self, s3: S3Client, bucket: str, key: str, content_type: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._key = key
        self._content_type = content_type
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str | None = None
        self._written = 0

    def write(self, data: bytes) -> int:
        self._buffer += data
        self._written += len(data)
        while len(self._buffer) >= PART_BYTES:
            self._upload_part(bytes(self._buffer[:PART_BYTES]))
            del self._buffer[:PART_BYTES]
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        """Parts go up when they are full; nothing to do before."""

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def _upload_part(self, data: bytes) -> None:
        try:
            self._send_part(data)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"writing s3://{self._bucket}/{self._key} failed: {exc}") from exc

    def _send_part(self, data: bytes) -> None:
        if self._upload_id is None:
            self._upload_id = self._s3.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, ContentType=self._content_type
            )["UploadId"]
        number = len(self._parts) + 1
        reply = self._s3.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=data,
        )
        self._parts.append({"PartNumber": number, "ETag": reply["ETag"]})

    def complete(self) -> None:
        if self._upload_id is None:
            # Smaller than one part: one plain PUT.
            self._s3.put_object(
                Bucket=self._bucket,
                Key=self._key,
                Body=bytes(self._buffer),
                ContentType=self._content_type,
            )
            return
        if self._buffer:
            self._upload_part(bytes(self._buffer))
            self._buffer.clear()
        self._s3.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": cast(Any, self._parts)},
        )

    def abort(self) -> None:
        if self._upload_id is not None:
            self._s3.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )


class S3ExportFiles(S3Adapter, ExportFiles):
    def __init__(self, make_client: Callable[[], S3Client], bucket: str) -> None:
        super().__init__(make_client)
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def read_if_any(self, key: str) -> bytes | None:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"]
            return body.read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise StorageError(f"reading s3://{self._bucket}/{key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"reading s3://{self._bucket}/{key} failed: {exc}") from exc

    @contextmanager
    def open(self, key: str, content_type: str) -> Iterator[IO[bytes]]:
        sink = MultipartSink(self._s3, self._bucket, key, content_type)
        try:
            yield cast(IO[bytes], sink)
        except BaseException:
            # If the abort fails too, the bucket's lifecycle rule removes the parts in 7 days.
            with contextlib.suppress(ClientError, BotoCoreError):
                sink.abort()
            raise
        try:
            sink.complete()
        except (ClientError, BotoCoreError) as exc:
            sink.abort()
            raise StorageError(f"writing s3://{self._bucket}/{key} failed: {exc}") from exc

    def read(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        span = f"bytes={start}-{'' if end is None else end - 1}"
        if end is not None and end <= start:
            return b""
        with self._storage(f"reading s3://{self._bucket}/{key}"):
            return self._s3.get_object(Bucket=self._bucket, Key=key, Range=span)["Body"].read()
        raise AssertionError("unreachable")

    def lines(self, key: str) -> Iterator[bytes]:
        with self._storage(f"reading s3://{self._bucket}/{key}"):
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"]
            yield from body.iter_lines(chunk_size=1024 * 1024)

    def splice(self, key: str, content_type: str, pieces: Iterable[Piece]) -> int:
        with self._storage(f"writing s3://{self._bucket}/{key}"):
            splice = Splice(self._s3, self._bucket, key, content_type)
            try:
                splice.add(pieces)
                splice.complete()
            except BaseException:
                with contextlib.suppress(ClientError, BotoCoreError):
                    splice.abort()
                raise
            return splice.size
        raise AssertionError("unreachable")

    def remove(self, keys: Iterable[str]) -> None:
        batch = [{"Key": k} for k in keys]
        with self._storage(f"deleting from s3://{self._bucket}"):
            for i in range(0, len(batch), 1000):
                self._s3.delete_objects(
                    Bucket=self._bucket,
                    Delete={"Objects": cast(Any, batch[i : i + 1000]), "Quiet": True},
                )

    @contextmanager
    def _storage(self, what: str) -> Iterator[None]:
        try:
            yield
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"{what} failed: {exc}") from exc
