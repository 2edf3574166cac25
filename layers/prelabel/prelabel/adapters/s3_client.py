"""The S3 client every S3 adapter holds: made on first use, since most calls of a function never
touch S3 and a client costs cold-start time."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3Adapter:
    def __init__(self, make_client: Callable[[], S3Client]) -> None:
        self._make_client = make_client

    @cached_property
    def _s3(self) -> S3Client:
        return self._make_client()
