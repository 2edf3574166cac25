"""Writing an export front to back: a zip into any binary sink, and lists kept aside until the
end of the export without keeping them in memory.

The sink may be a stream that cannot seek (an S3 multipart upload, a socket): zipfile then
writes each entry's sizes after its data. Entries written as a stream are opened as ZIP64 up
front, since a stream cannot go back to widen the header of one that passes 2 GiB.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, Self

# A fixed timestamp makes the same labels give the same archive, byte for byte.
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
# What a spool keeps in memory before it moves to a temporary file (/tmp on Lambda).
SPOOL_MEMORY_BYTES = 4 * 1024 * 1024
_COPY_CHUNK = 1024 * 1024


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


class Closing:
    """What an export holds open until its `with` block ends."""

    def close(self) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        """Called instead of close() when the block raised."""
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()


class Spool(Closing):
    """Bytes set aside during an export and copied into it at the end."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def copy_to(self, out: IO[bytes]) -> None:
        self._file.seek(0)
        shutil.copyfileobj(self._file, out, _COPY_CHUNK)

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True, slots=True)
class Stream:
    """A member (or a list inside one) made of every task's items, in task order: the opening,
    the items with the separator between them, then the closing (`closing_empty` without
    items)."""

    name: str
    opening: bytes = b""
    separator: bytes = b""
    closing: bytes = b""
    closing_empty: bytes = b""

    def closing_for(self, count: int) -> bytes:
        return self.closing if count else self.closing_empty


def json_list(name: str, closing: bytes = b"\n]\n", closing_empty: bytes = b"]\n") -> Stream:
    """A JSON array of one item per line (each item's bytes start with its line end)."""
    return Stream(name, b"[", b",", closing, closing_empty)


class StreamSpool(Spool):
    """A stream's items set aside one at a time, written framed at the end."""

    def __init__(self, stream: Stream) -> None:
        super().__init__()
        self.stream = stream
        self.count = 0

    def append(self, data: bytes) -> None:
        self.write((self.stream.separator if self.count else b"") + data)
        self.count += 1

    def write_framed(self, out: IO[bytes]) -> None:
        out.write(self.stream.opening)
        self.copy_to(out)
        out.write(self.stream.closing_for(self.count))


class LiveStream:
    """A stream written straight into its open member as the items come (a format whose tasks
    write nothing else into the archive, so no other member opens meanwhile)."""

    def __init__(self, stream: Stream, out: IO[bytes]) -> None:
        self.stream = stream
        self._out = out
        self.count = 0
        out.write(stream.opening)

    def append(self, data: bytes) -> None:
        self._out.write((self.stream.separator if self.count else b"") + data)
        self.count += 1

    def finish(self) -> None:
        self._out.write(self.stream.closing_for(self.count))


def member_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


class Archive(Closing):
    """A zip written entry after entry into `sink`; nothing of an entry stays in memory once it
    is written, only zipfile's directory record of it (its name and sizes)."""

    def __init__(self, sink: IO[bytes]) -> None:
        self._zip = zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED)

    def add(self, name: str, data: bytes | str) -> None:
        self._zip.writestr(member_info(name), data)

    def folder(self, name: str) -> None:
        """An empty folder, for the images a user puts in place next to the labels."""
        info = zipfile.ZipInfo(name.rstrip("/") + "/", date_time=_ZIP_TIME)
        info.external_attr = (0o40755 << 16) | 0x10
        self._zip.writestr(info, b"")

    @contextmanager
    def member(self, name: str) -> Iterator[IO[bytes]]:
        """One entry written as a stream (a JSON array of every task)."""
        with self._zip.open(member_info(name), "w", force_zip64=True) as out:
            yield out

    def add_stream(self, spool: StreamSpool) -> None:
        with self.member(spool.stream.name) as out:
            spool.write_framed(out)

    def close(self) -> None:
        self._zip.close()

    def written(self) -> list[zipfile.ZipInfo]:
        """The directory records of the members written so far."""
        return list(self._zip.filelist)

    def leave_open(self) -> None:
        """Stop without a central directory: the members are part of an archive whose
        directory is written elsewhere (an export in slices)."""
        self.discard()

    def discard(self) -> None:
        # A failed export gets no central directory: a half-written archive must not open
        # as if it were whole. Without its file, ZipFile's own close (run again when it is
        # collected) writes nothing.
        self._zip.fp = None
