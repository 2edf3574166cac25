"""Ports for the objects jobs read and write: dataset listings, manifests, export files, and the
plans of sliced jobs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO

from prelabel.domain.imports import ObjectRef
from prelabel.domain.jobs import Job
from prelabel.domain.slices import SliceItem, SlicePlan


@dataclass(frozen=True, slots=True)
class ListingPage:
    objects: list[ObjectRef]
    next_token: str | None
    # With a delimiter: the sub-prefixes ("folders") of this page, each ending in it.
    folders: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LinesRead:
    """Whole lines of a manifest from `position` on. `position` is opaque to callers (a byte
    offset in a plain object); `bytes_done` of `size` says how far the object has been read."""

    lines: list[bytes]
    position: int
    at_end: bool
    bytes_done: int
    size: int


class DatasetObjects(ABC):
    @abstractmethod
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
        """One page of the listing under `prefix`, after `token` (None: from the start), or
        from the first key after `start_after`. With a `delimiter`, keys below a further
        delimiter are not listed but named once as a folder. InvalidInput naming the bucket
        when it cannot be listed (missing, access denied)."""

    @abstractmethod
    def read_lines(
        self, bucket: str, key: str, position: int, max_lines: int, end: int | None = None
    ) -> LinesRead:
        """Up to `max_lines` whole lines from `position` (0: the start; else where a line
        starts), stopping before a line that starts at `end` or later; gzip objects (`.gz`)
        are decompressed (`position` then counts lines, `end` is not used). InvalidInput naming
        the manifest when it cannot be read."""

    @abstractmethod
    def size(self, bucket: str, key: str) -> int:
        """The object's size in bytes; InvalidInput naming the manifest when it cannot be read."""

    @abstractmethod
    def line_start(self, bucket: str, key: str, offset: int) -> int:
        """Where the first line starting at `offset` or later starts (the size when none does):
        slices of a manifest cut at byte offsets begin at a whole line."""


class ExportFiles(ABC):
    @property
    @abstractmethod
    def bucket(self) -> str: ...

    @abstractmethod
    def open(self, key: str, content_type: str) -> AbstractContextManager[IO[bytes]]:
        """A binary sink whose bytes become the object `key` when the block ends without an
        error; on an error nothing is stored (the partial upload is aborted)."""

    @abstractmethod
    def read_if_any(self, key: str) -> bytes | None:
        """The object `key` written by `open` (a job's state between its steps); None when
        there is none."""

    @abstractmethod
    def read(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes [start, end) of the stored object `key` (end None: to its end)."""

    @abstractmethod
    def lines(self, key: str) -> Iterator[bytes]:
        """The stored object's lines, streamed, without their line ends."""

    @abstractmethod
    def splice(self, key: str, content_type: str, pieces: Iterable[Piece]) -> int:
        """The object `key` made of `pieces` in order (bytes, or spans of stored objects, which
        are copied where they are, not read); returns its size. Nothing is stored on an error."""

    @abstractmethod
    def remove(self, keys: Iterable[str]) -> None:
        """Delete these stored objects (missing ones are no error)."""


@dataclass(frozen=True, slots=True)
class Span:
    """Bytes [start, end) of a stored object of the export bucket."""

    key: str
    start: int
    end: int


# A piece of a spliced object: bytes made now, or a span of an object stored already.
Piece = bytes | Span


class SlicePlans(ABC):
    """Where a sliced job's plan rounds are written for the Distributed Map to read."""

    @abstractmethod
    def write(self, job: Job, name: str, items: list[SliceItem]) -> tuple[str, str]:
        """One object per item under a prefix of the job's own (`name` tells rounds apart);
        writing the same round again writes the same objects. Returns (bucket, prefix)."""

    @abstractmethod
    def read(self, bucket: str, key: str) -> SliceItem:
        """The item the Map handed a slice (the key of one object a `write` made)."""

    def plan(self, job: Job, name: str, items: list[SliceItem], at_once: int) -> SlicePlan:
        bucket, prefix = self.write(job, name, items)
        return SlicePlan(bucket, prefix, len(items), at_once)
