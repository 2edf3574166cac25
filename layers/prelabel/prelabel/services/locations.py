"""Data locations of organizations: operator grants, and the locations every image path checks.

The operator CLI calls `grant`, `revoke` and `list_grants`; the API and the worker call
`locations_of` (with the organization they already read) or `locations` (reads it).
"""

from __future__ import annotations

from collections.abc import Collection

from prelabel.domain.entities import Organization
from prelabel.domain.errors import InvalidInput
from prelabel.domain.locations import DataLocation, OrgLocations, grant_root, org_locations
from prelabel.ports.organizations import OrganizationRepository


class LocationService:
    def __init__(
        self, orgs: OrganizationRepository, data_bucket: str, grant_buckets: Collection[str]
    ) -> None:
        self._orgs = orgs
        self._data_bucket = data_bucket
        self._grant_buckets = frozenset(grant_buckets) - {data_bucket}

    def locations_of(self, org: Organization) -> OrgLocations:
        return org_locations(org.org_id, self._data_bucket, org.grants, self._grant_buckets)

    def locations(self, org_id: str) -> OrgLocations:
        """NotFound for an organization that was never set up."""
        return self.locations_of(self._orgs.get(org_id))

    def grant(self, org_id: str, bucket: str, prefix: str) -> DataLocation:
        """Let `org_id` read `bucket` under `prefix` ("" is the whole bucket). Idempotent.

        Only the deployment's dataset buckets (the template's DatasetBuckets, which the
        functions' IAM policies name) can be granted; the data bucket is split per tenant by
        folder and is never granted.
        """
        root = grant_root(bucket, prefix)
        if bucket == self._data_bucket:
            raise InvalidInput(
                f"bucket: {bucket!r} is the data bucket, where each organization owns "
                "<org_id>/; it cannot be granted",
                field="bucket",
            )
        if bucket not in self._grant_buckets:
            known = ", ".join(sorted(self._grant_buckets)) or "none"
            raise InvalidInput(
                f"bucket: {bucket!r} is not a dataset bucket of this deployment ({known})",
                field="bucket",
            )
        self._orgs.add_grant(org_id, root)
        return root

    def revoke(self, org_id: str, bucket: str, prefix: str) -> bool:
        """False when the organization held no such grant. Tasks made from it stay, but no
        image under it is signed, fetched or exported for the organization any more."""
        return self._orgs.remove_grant(org_id, grant_root(bucket, prefix))

    def list_grants(self, org_id: str) -> list[DataLocation]:
        return list(self._orgs.get(org_id).grants)
