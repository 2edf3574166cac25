"""Ports for image objects: reading their bytes and handing out short-lived links to them."""

from __future__ import annotations

from abc import ABC, abstractmethod


class ImageUnavailable(Exception):
    """A per-image problem (missing, too large, unreadable): the task fails, the run goes on."""


class ImageSource(ABC):
    @abstractmethod
    def fetch(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """The object's bytes; ImageUnavailable with a reason when it cannot be read."""


class ImageLinks(ABC):
    """Short-lived links a browser can fetch one object (an image, an export) with, straight
    from storage."""

    @abstractmethod
    def signed_get_url(
        self, bucket: str, key: str, expires_in: int, download_name: str | None = None
    ) -> str:
        """A URL that reads the object for `expires_in` seconds (SigV4); `download_name` is
        the file name a browser saves it under."""
