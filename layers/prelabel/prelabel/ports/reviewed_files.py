"""The port for the files of reviewed-label imports and quality jobs in the data bucket: signed
uploads from the browser, the uploaded file read whole, and a job's working files."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SignedUpload:
    """A presigned POST (SigV4): the form's `fields` and the file go to `url`; the policy
    allows only `key` and a size within `max_bytes`, until `expires_in` seconds from now."""

    url: str
    fields: dict[str, str]
    bucket: str
    key: str
    max_bytes: int
    expires_in: int


class ReviewedFiles(ABC):
    @property
    @abstractmethod
    def bucket(self) -> str:
        """The data bucket, where uploads and working files go."""

    @abstractmethod
    def signed_upload(self, key: str, max_bytes: int, expires_in: int) -> SignedUpload: ...

    @abstractmethod
    def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """The whole object; InvalidInput naming `key` when it cannot be read or is larger
        than `max_bytes`."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """A working file in the data bucket (replaced if it exists)."""

    @abstractmethod
    def get(self, key: str) -> bytes | None:
        """A working file; None when there is none."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Remove the working files under `prefix` (of the data bucket); how many."""
