"""Where a dataset's images come from: a prefix of a bucket, or a manifest object that names
them. Pure rules, no storage."""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.entities import Dataset
from prelabel.domain.imports import ManifestFormat
from prelabel.domain.locations import (
    OrgLocations,
    check_prefix,
    is_readable,
    refused,
    require_prefix,
)


@dataclass(frozen=True, slots=True)
class DatasetSource:
    """A prefix (`prefix`, "" for the whole bucket), or a manifest object and its format."""

    bucket: str
    prefix: str | None = None
    manifest_key: str | None = None
    manifest_format: ManifestFormat | None = None

    def same_as(self, d: Dataset) -> bool:
        if self.manifest_key is not None:
            return (d.bucket, d.manifest_key) == (self.bucket, self.manifest_key)
        return d.manifest_key is None and (d.bucket, d.prefix) == (self.bucket, self.prefix)


def require_source(locations: OrgLocations, source: DatasetSource) -> None:
    """Inside the organization's locations, decided before S3 is asked anything: a refused
    location answers the same whether or not it exists. (The keys a manifest names are checked
    one by one by the import.)"""
    if source.manifest_key is not None:
        check_prefix(source.manifest_key, "manifest_key")
        if not is_readable(locations, source.bucket, source.manifest_key):
            raise refused(source.bucket, source.manifest_key)
        return
    require_prefix(locations, source.bucket, source.prefix or "")


def source_of(d: Dataset) -> DatasetSource:
    return DatasetSource(d.bucket, d.prefix, d.manifest_key, d.manifest_format)
