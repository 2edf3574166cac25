"""Data-location grants on the organization item in DynamoDB Local: stored, read with the
organization, revoked, and never lost to a concurrent change."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from prelabel.container import Container
from prelabel.domain.errors import NotFound
from prelabel.domain.locations import DataLocation
from prelabel.services.locations import LocationService

BUCKETS = ("lab-share", "archive-share")


@pytest.fixture
def service(ports: Container, make_org) -> LocationService:  # type: ignore[no-untyped-def]
    make_org("org-a")
    make_org("org-b")
    return LocationService(ports.orgs, ports.settings.data_bucket, BUCKETS)


def test_grants_live_on_the_organization_item(ports: Container, service: LocationService) -> None:
    # When an operator grants org A two roots, one of them the whole archive bucket
    service.grant("org-a", "lab-share", "cams/north")
    service.grant("org-a", "archive-share", "")
    # Then the organization read at the start of a request carries them, and B has none
    org = ports.orgs.get("org-a")
    assert org.grants == (
        DataLocation("lab-share", "cams/north/"),
        DataLocation("archive-share", ""),
    )
    assert ports.orgs.get("org-b").grants == ()
    # And its locations are its own folder plus the grants
    assert service.locations("org-a").locations == (
        DataLocation(ports.settings.data_bucket, "org-a/"),
        *org.grants,
    )
    # When both are revoked, the item holds none again, and the plan and limit are untouched
    assert service.revoke("org-a", "lab-share", "cams/north/")
    assert service.revoke("org-a", "archive-share", "")
    after = ports.orgs.get("org-a")
    assert after.grants == () and (after.plan, after.remaining) == (org.plan, org.remaining)


def test_concurrent_grants_are_all_kept(ports: Container, service: LocationService) -> None:
    # When six grants for the same organization are written at once
    prefixes = [f"team-{i}/" for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda p: service.grant("org-a", "lab-share", p), prefixes))
    # Then every one of them is stored (none overwrote another)
    assert sorted(g.prefix for g in service.list_grants("org-a")) == prefixes


def test_grants_for_an_organization_that_does_not_exist_are_refused(
    ports: Container, service: LocationService
) -> None:
    # When an operator grants or revokes for an id no organization has
    with pytest.raises(NotFound):
        service.grant("org-zzz", "lab-share", "x/")
    with pytest.raises(NotFound):
        service.revoke("org-zzz", "lab-share", "x/")
    # Then no organization item was created by the attempt
    with pytest.raises(NotFound):
        ports.orgs.get("org-zzz")
