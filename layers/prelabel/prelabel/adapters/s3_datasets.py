"""Dataset objects in S3 for import jobs: one listing page at a time, manifests a slice of
lines at a time (ranged GETs; gzip objects decompressed from the start, skipping what earlier
slices read)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from prelabel.adapters.s3_client import S3Adapter
from prelabel.domain.errors import InvalidInput, StorageError
from prelabel.domain.imports import ObjectRef
from prelabel.ports.objects import DatasetObjects, LinesRead, ListingPage

if TYPE_CHECKING:
    pass

REFUSED = {"NoSuchBucket", "NoSuchKey", "AccessDenied", "403", "404"}
# One ranged GET of a plain manifest; a line longer than this is refused.
RANGE_BYTES = 4 * 1024 * 1024
# A slice of a manifest finds its first line reading this much at a time.
ALIGN_BYTES = 64 * 1024
STREAM_CHUNK = 1024 * 1024


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3DatasetObjects(S3Adapter, DatasetObjects):
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
        args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": max_keys}
        if token:
            args["ContinuationToken"] = token
        elif start_after:
            args["StartAfter"] = start_after
        if delimiter:
            args["Delimiter"] = delimiter
        try:
            reply = self._s3.list_objects_v2(**args)
        except ClientError as exc:
            if _code(exc) in REFUSED:
                raise InvalidInput(
                    f"bucket: s3://{bucket} cannot be listed ({_code(exc)})", field="bucket"
                ) from exc
            raise StorageError(f"listing s3://{bucket}/{prefix} failed: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"listing s3://{bucket}/{prefix} failed: {exc}") from exc
        objects = [
            ObjectRef(bucket, o["Key"], int(o.get("Size", 0))) for o in reply.get("Contents", [])
        ]
        more = reply.get("IsTruncated") and reply.get("NextContinuationToken")
        folders = [str(p["Prefix"]) for p in reply.get("CommonPrefixes", [])]
        return ListingPage(objects, str(more) if more else None, folders)

    def read_lines(
        self, bucket: str, key: str, position: int, max_lines: int, end: int | None = None
    ) -> LinesRead:
        with self._reading(bucket, key):
            if key.lower().endswith(".gz"):
                return self._gzip_lines(bucket, key, position, max_lines)
            return self._plain_lines(bucket, key, position, max_lines, end)
        raise AssertionError("unreachable")

    def size(self, bucket: str, key: str) -> int:
        with self._reading(bucket, key):
            return self._size(bucket, key)
        raise AssertionError("unreachable")

    def line_start(self, bucket: str, key: str, offset: int) -> int:
        """Read from the byte before `offset` to the first line end (ranged GETs of 64 KiB,
        up to RANGE_BYTES: a longer line is refused, as a slice's read refuses it)."""
        if offset <= 0:
            return 0
        with self._reading(bucket, key):
            size = self._size(bucket, key)
            pos = offset - 1
            limit = min(size, pos + RANGE_BYTES)
            while pos < limit:
                last = min(size, pos + ALIGN_BYTES) - 1
                body = self._s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={pos}-{last}")
                data = body["Body"].read()
                found = data.find(b"\n")
                if found >= 0:
                    return pos + found + 1
                pos += len(data)
            if pos >= size:
                return size
            raise InvalidInput(
                f"manifest_key: a line of s3://{bucket}/{key} near byte {offset} is longer than "
                f"{RANGE_BYTES} bytes",
                field="manifest_key",
            )
        raise AssertionError("unreachable")

    @contextmanager
    def _reading(self, bucket: str, key: str) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            if _code(exc) in REFUSED:
                raise InvalidInput(
                    f"manifest_key: s3://{bucket}/{key} cannot be read ({_code(exc)})",
                    field="manifest_key",
                ) from exc
            raise StorageError(f"reading s3://{bucket}/{key} failed: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"reading s3://{bucket}/{key} failed: {exc}") from exc

    def _size(self, bucket: str, key: str) -> int:
        return int(self._s3.head_object(Bucket=bucket, Key=key)["ContentLength"])

    def _plain_lines(
        self, bucket: str, key: str, position: int, max_lines: int, end: int | None
    ) -> LinesRead:
        lines: list[bytes] = []
        pos = position
        size = self._size(bucket, key)
        stop = size if end is None else min(size, end)
        while len(lines) < max_lines and pos < stop:
            last = min(size, pos + RANGE_BYTES) - 1
            data = self._s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={pos}-{last}")[
                "Body"
            ].read()
            at_end = pos + len(data) >= size
            usable = data if at_end else data[: data.rfind(b"\n") + 1]
            if not usable and lines:
                break  # the lines before it are this slice's; the next one stops there
            if not usable:
                raise InvalidInput(
                    f"manifest_key: a line of s3://{bucket}/{key} at byte {pos} is longer than "
                    f"{RANGE_BYTES} bytes",
                    field="manifest_key",
                )
            start = 0
            while start < len(usable) and len(lines) < max_lines and pos + start < stop:
                line_end = usable.find(b"\n", start)
                line_end = len(usable) if line_end < 0 else line_end + 1
                lines.append(usable[start:line_end].rstrip(b"\r\n"))
                start = line_end
            pos += start
            if pos >= stop:
                break
        return LinesRead(lines, pos, pos >= size, pos, size)

    def _gzip_lines(self, bucket: str, key: str, position: int, max_lines: int) -> LinesRead:
        """`position` counts lines here: a deflate stream cannot be entered in the middle, so
        each slice decompresses from the start (fast next to what a slice does with its lines)
        and skips the lines earlier slices read."""
        reply = self._s3.get_object(Bucket=bucket, Key=key)
        size = int(reply["ContentLength"])
        body = reply["Body"]
        raw_read = 0

        def chunks() -> Iterator[bytes]:
            nonlocal raw_read
            inflater = zlib.decompressobj(wbits=47)
            while True:
                raw = body.read(STREAM_CHUNK)
                if not raw:
                    yield inflater.flush()
                    return
                raw_read += len(raw)
                while raw:
                    yield inflater.decompress(raw)
                    raw = inflater.unused_data if inflater.eof else b""
                    if inflater.eof:  # gzip files may hold several members
                        inflater = zlib.decompressobj(wbits=47)

        lines: list[bytes] = []
        index = 0
        at_end = True
        try:
            for line in _split_lines(chunks()):
                if index >= position:
                    if len(lines) >= max_lines:
                        at_end = False
                        break
                    lines.append(line)
                index += 1
        except zlib.error as exc:
            raise InvalidInput(
                f"manifest_key: s3://{bucket}/{key} is not valid gzip ({exc})",
                field="manifest_key",
            ) from exc
        finally:
            body.close()
        return LinesRead(lines, position + len(lines), at_end, size if at_end else raw_read, size)


def _split_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    carry = b""
    for chunk in chunks:
        carry += chunk
        *whole, carry = carry.split(b"\n")
        for line in whole:
            yield line.rstrip(b"\r")
        if len(carry) > RANGE_BYTES:
            raise zlib.error(f"a line is longer than {RANGE_BYTES} bytes")
    if carry:
        yield carry.rstrip(b"\r")
