"""Presigned links to one object in S3 (an image, an export file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from prelabel.adapters.s3_client import S3Adapter
from prelabel.domain.errors import StorageError
from prelabel.ports.images import ImageLinks

if TYPE_CHECKING:
    pass


class S3ImageLinks(S3Adapter, ImageLinks):
    """Presigned GET URLs. The client must sign with SigV4 (`signature_version="s3v4"`):
    SigV2 is deprecated, and refused by buckets in regions opened since 2014."""

    def signed_get_url(
        self, bucket: str, key: str, expires_in: int, download_name: str | None = None
    ) -> str:
        params = {"Bucket": bucket, "Key": key}
        if download_name:
            params["ResponseContentDisposition"] = f'attachment; filename="{download_name}"'
        try:
            return self._s3.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_in
            )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"signing a link to s3://{bucket}/{key} failed: {exc}") from exc
