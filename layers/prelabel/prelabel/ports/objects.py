"""Ports for the objects jobs read and write: dataset listings, manifests, export files."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import IO

from prelabel.domain.imports import ObjectRef


@dataclass(frozen=True, slots=True)
class ListingPage:
    objects: list[ObjectRef]
    next_token: str | None


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
    def list_page(self, bucket: str, prefix: str, token: str | None, max_keys: int) -> ListingPage:
        """One page of the listing under `prefix`, after `token` (None: from the start).
        InvalidInput naming the bucket when it cannot be listed (missing, access denied)."""

    @abstractmethod
    def read_lines(self, bucket: str, key: str, position: int, max_lines: int) -> LinesRead:
        """Up to `max_lines` whole lines from `position` (0: the start); gzip objects (`.gz`)
        are decompressed. InvalidInput naming the manifest when it cannot be read."""


class ExportFiles(ABC):
    @property
    @abstractmethod
    def bucket(self) -> str: ...

    @abstractmethod
    def open(self, key: str, content_type: str) -> AbstractContextManager[IO[bytes]]:
        """A binary sink whose bytes become the object `key` when the block ends without an
        error; on an error nothing is stored (the partial upload is aborted)."""

    @abstractmethod
    def read(self, key: str) -> bytes | None:
        """The object `key` written by `open` (a job's state between its steps); None when
        there is none."""
