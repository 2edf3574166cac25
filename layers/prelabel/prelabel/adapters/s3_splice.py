"""An S3 object made of pieces: bytes made now, and spans of objects stored already, which
S3 copies where they are (UploadPartCopy) instead of the function reading them.

A multipart upload's parts are at least 5 MiB, but the last: a span of 5 MiB or more is copied
in parts of its own; bytes, and spans too small to stand as a part, gather in a buffer (a small
span is read, or the head of a large one when the buffer has fewer than 5 MiB) that goes up as
a part once it holds 8 MiB. So only the small pieces and their neighbourhood pass through the
function, whatever the object's size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import pairwise
from typing import TYPE_CHECKING, Any, cast

from prelabel.ports.objects import Piece, Span

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIN_PART = 5 * 1024 * 1024
BUFFER_PART = 8 * 1024 * 1024
# A copied span goes in parts of at most this much (S3 copies up to 5 GiB a part); smaller
# parts are copied in parallel.
COPY_PART = 256 * 1024 * 1024
PARALLEL_PARTS = 8


class Splice:
    def __init__(self, s3: S3Client, bucket: str, key: str, content_type: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._key = key
        self._upload_id = s3.create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=content_type
        )["UploadId"]
        self._buffer = bytearray()
        self._pool = ThreadPoolExecutor(max_workers=PARALLEL_PARTS)
        self._parts: list[Future[dict[str, Any]]] = []
        self._in_flight: deque[Future[dict[str, Any]]] = deque()
        self.size = 0

    def add(self, pieces: Iterable[Piece]) -> None:
        for piece in pieces:
            if isinstance(piece, Span):
                self._span(piece)
            else:
                self._buffer += piece
                self.size += len(piece)
                if len(self._buffer) >= BUFFER_PART:
                    self._flush()

    def _span(self, span: Span) -> None:
        start, end = span.start, span.end
        self.size += max(0, end - start)
        if self._buffer and len(self._buffer) < MIN_PART and start < end:
            take = min(end - start, MIN_PART - len(self._buffer))
            self._buffer += self._read(span.key, start, start + take)
            start += take
        if end - start >= MIN_PART:
            if self._buffer:
                self._flush()
            count = -(-(end - start) // COPY_PART)
            cuts = [start + (end - start) * i // count for i in range(count + 1)]
            for a, b in pairwise(cuts):
                self._submit(self._copy_part, span.key, a, b)
        elif start < end:
            self._buffer += self._read(span.key, start, end)
        if len(self._buffer) >= BUFFER_PART:
            self._flush()

    def _read(self, key: str, start: int, end: int) -> bytes:
        reply = self._s3.get_object(Bucket=self._bucket, Key=key, Range=f"bytes={start}-{end - 1}")
        return reply["Body"].read()

    def _flush(self) -> None:
        self._submit(self._upload_part, bytes(self._buffer))
        self._buffer.clear()

    def _submit(self, fn: Any, *args: Any) -> None:
        number = len(self._parts) + 1
        future = self._pool.submit(fn, number, *args)
        self._parts.append(future)
        self._in_flight.append(future)
        while len(self._in_flight) > 2 * PARALLEL_PARTS:  # bounded memory
            self._in_flight.popleft().result()

    def _upload_part(self, number: int, data: bytes) -> dict[str, Any]:
        reply = self._s3.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=data,
        )
        return {"PartNumber": number, "ETag": reply["ETag"]}

    def _copy_part(self, number: int, key: str, start: int, end: int) -> dict[str, Any]:
        reply = self._s3.upload_part_copy(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            CopySource={"Bucket": self._bucket, "Key": key},
            CopySourceRange=f"bytes={start}-{end - 1}",
        )
        return {"PartNumber": number, "ETag": reply["CopyPartResult"]["ETag"]}

    def complete(self) -> None:
        if self._buffer or not self._parts:
            self._flush()  # the last part may be small (or empty: an empty object)
        parts = [f.result() for f in self._parts]
        self._pool.shutdown()
        self._s3.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": cast(Any, parts)},
        )

    def abort(self) -> None:
        self._pool.shutdown(cancel_futures=True)
        self._s3.abort_multipart_upload(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
        )
