"""Dataset images in S3: listing them, and presigned links to one of them."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from prelabel.domain.errors import InvalidInput, StorageError
from prelabel.ports.images import ImageLinks
from prelabel.ports.projects import ImageLister

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


class S3ImageLister(ImageLister):
    def __init__(self, make_client: Callable[[], S3Client]) -> None:
        # Created on first use: most API calls never list S3, and the client costs cold-start time.
        self._make_client = make_client

    @cached_property
    def _s3(self) -> S3Client:
        return self._make_client()

    def list_images(self, bucket: str, prefix: str, limit: int) -> list[str]:
        keys: list[str] = []
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for page in pages:
                for obj in page.get("Contents", []):
                    key = obj["Key"]
                    if key.lower().endswith(IMAGE_SUFFIXES) and obj.get("Size", 0) > 0:
                        keys.append(key)
                        if len(keys) > limit:
                            return keys
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchBucket", "AccessDenied", "403", "404"):
                raise InvalidInput(
                    f"bucket: s3://{bucket} cannot be listed ({code})", field="bucket"
                ) from exc
            raise StorageError(f"listing s3://{bucket}/{prefix} failed: {code}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"listing s3://{bucket}/{prefix} failed: {exc}") from exc
        return keys


class S3ImageLinks(ImageLinks):
    """Presigned GET URLs. The client must sign with SigV4 (`signature_version="s3v4"`):
    SigV2 is deprecated, and refused by buckets in regions opened since 2014."""

    def __init__(self, make_client: Callable[[], S3Client]) -> None:
        self._make_client = make_client

    @cached_property
    def _s3(self) -> S3Client:
        return self._make_client()

    def signed_get_url(self, bucket: str, key: str, expires_in: int) -> str:
        try:
            return self._s3.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
            )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"signing a link to s3://{bucket}/{key} failed: {exc}") from exc
