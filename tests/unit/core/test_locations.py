"""Data locations: which (bucket, key or prefix) an organization may read, and operator grants."""

from __future__ import annotations

import io

import pytest

from prelabel.domain.dataset_sources import DatasetSource
from prelabel.domain.entities import LabelingState, Task
from prelabel.domain.errors import InvalidInput, NotFound
from prelabel.domain.imports import SkipReason
from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.domain.locations import (
    DataLocation,
    LocationRefused,
    OrgLocations,
    check_prefix,
    is_readable,
    org_locations,
    require_prefix,
    valid_org_id,
)
from prelabel.domain.plans import DEFAULT_MONTHLY_LIMITS, Plan
from prelabel.export_formats import ExportFormat
from prelabel.services.jobs.export_step import ExportWriter
from prelabel.services.locations import LocationService
from prelabel.services.organizations import OrganizationAdmin
from tests.unit.fakes.store import MemoryOrgs
from tests.unit.fakes.world import World

DATA = "prelabel-data"
SHARED = "team-share"
A = org_locations("org-a", DATA, [DataLocation(SHARED, "team/")], [DATA, SHARED])

# Spellings that name org B's folder, the whole bucket, or something a later reader could
# decode or normalize into either; none is org A's to connect.
FOREIGN_PREFIXES = [
    "org-b/",
    "org-b/private/",
    "",
    "org-a",  # no boundary: would list org-ab/ too
    "org-ab/",
    "org-a/../org-b/",
    "org-a/./../org-b/",
    "org-a/..",
    "./org-a/",
    "/org-a/",
    "org-a//../org-b/",
    "org-a/%2e%2e/org-b/",
    "org-a/%2E%2E/org-b/",
    "org-a%2forg-b/",
    "org-a/%252e%252e/org-b/",
    "org-a/..%2forg-b/",
    "org-a\\..\\org-b/",
    "org-a/\x00/",
    "org-a/\n/",
    "org-a/\uff0e\uff0e/org-b/",  # full-width dots: '..' under NFKC
    "org-a\uff0f..\uff0forg-b/",  # full-width solidus
]


@pytest.mark.parametrize("prefix", FOREIGN_PREFIXES)
def test_other_spellings_of_foreign_prefixes_are_refused(prefix: str) -> None:
    # Given org A's locations; When A asks for a prefix of the data bucket in some spelling
    # Then it is refused: as bad input when the spelling is ambiguous, as not A's otherwise
    with pytest.raises((InvalidInput, LocationRefused)) as err:
        require_prefix(A, DATA, prefix)
    assert "prefix" in err.value.message or "data locations" in err.value.message


@pytest.mark.parametrize(
    ("bucket", "prefix"),
    [(DATA, "org-a/"), (DATA, "org-a/photos/"), (DATA, "org-a/photos"), (SHARED, "team/x/")],
)
def test_own_folder_and_granted_roots_are_readable(bucket: str, prefix: str) -> None:
    # Given org A's own folder and its grant of team/ in the shared bucket
    # When A asks for a prefix inside one of them; Then it is accepted as given
    assert require_prefix(A, bucket, prefix) == prefix


@pytest.mark.parametrize(
    ("bucket", "prefix"),
    [(SHARED, "team-x/"), (SHARED, "team"), (SHARED, ""), (SHARED, "other/"), ("elsewhere", "")],
)
def test_grant_roots_have_a_boundary(bucket: str, prefix: str) -> None:
    # Given A's grant of team/; When A asks for a neighbour, the bucket root or another bucket
    # Then it is refused with the same words whatever the location
    with pytest.raises(LocationRefused) as err:
        require_prefix(A, bucket, prefix)
    assert (
        err.value.message
        == f"s3://{bucket}/{prefix} is not one of this organization's data locations"
    )


@pytest.mark.parametrize(
    ("bucket", "key", "readable"),
    [
        (DATA, "org-a/photos/1.jpg", True),
        (DATA, "org-a/a%20b.jpg", True),  # an ordinary escape is just text
        (SHARED, "team/cam/2.png", True),
        (DATA, "org-b/1.jpg", False),
        (DATA, "org-ab/1.jpg", False),
        (DATA, "org-a/../org-b/1.jpg", False),
        (DATA, "org-a/%2e%2e/org-b/1.jpg", False),
        (DATA, "org-a/", False),
        (DATA, "", False),
        (SHARED, "team-x/1.jpg", False),
        (SHARED, "org-a/1.jpg", False),
        ("other-bucket", "org-a/1.jpg", False),
    ],
)
def test_is_readable_for_the_worker(bucket: str, key: str, readable: bool) -> None:
    # Given org A's locations; When one object is checked; Then only keys inside them pass
    assert is_readable(A, bucket, key) is readable


def test_grants_outside_the_deployments_buckets_and_in_the_data_bucket_give_nothing() -> None:
    # Given grants on a bucket that left the deployment's list, and one inside the data bucket
    grants = [DataLocation("retired", ""), DataLocation(DATA, "org-b/"), DataLocation(SHARED, "")]
    # When the organization's locations are computed
    locs = org_locations("org-a", DATA, grants, [SHARED])
    # Then only its own folder and the grant on a current dataset bucket remain
    assert locs.locations == (DataLocation(DATA, "org-a/"), DataLocation(SHARED, ""))


@pytest.mark.parametrize("org_id", ["runs", "a/b", "..", ".", "", "-x", "a" * 129, "org a"])
def test_org_ids_that_are_not_one_plain_folder_own_nothing(org_id: str) -> None:
    # Given an organization id that is not one plain path segment (or is reserved)
    # When its locations are computed; Then it owns no folder of the data bucket
    assert not valid_org_id(org_id)
    assert org_locations(org_id, DATA, [], []).locations == ()


def test_prefix_spelling_errors_name_the_field() -> None:
    # When a prefix with a dot segment is checked; Then the error names the field and the value
    with pytest.raises(InvalidInput) as err:
        check_prefix("org-a/../x/")
    assert err.value.field == "prefix"
    assert "'org-a/../x/'" in err.value.message and "'..'" in err.value.message


# The grant service


@pytest.fixture
def world() -> dict[str, object]:
    orgs = MemoryOrgs()
    for org_id in ("org-a", "org-b"):
        OrganizationAdmin(orgs, DEFAULT_MONTHLY_LIMITS).create(
            org_id, org_id, Plan.TEAM_PRO, period="2026-11"
        )
    return {"orgs": orgs, "svc": LocationService(orgs, DATA, [DATA, SHARED])}


def test_grant_list_and_revoke(world: dict) -> None:
    # Given no grants; When an operator grants org A the prefix root "team" of the shared bucket
    svc: LocationService = world["svc"]
    root = svc.grant("org-a", SHARED, "team")
    # Then the grant is stored closed with '/', listed, and A may read under it (B may not)
    assert root == DataLocation(SHARED, "team/")
    assert svc.list_grants("org-a") == [root]
    assert svc.list_grants("org-b") == []
    assert is_readable(svc.locations("org-a"), SHARED, "team/1.jpg")
    assert not is_readable(svc.locations("org-b"), SHARED, "team/1.jpg")
    # When the same grant is given again, then nothing changes
    svc.grant("org-a", SHARED, "team/")
    assert svc.list_grants("org-a") == [root]
    # When it is revoked, A can no longer read there, and a second revoke says so
    assert svc.revoke("org-a", SHARED, "team") is True
    assert not is_readable(svc.locations("org-a"), SHARED, "team/1.jpg")
    assert svc.revoke("org-a", SHARED, "team/") is False


@pytest.mark.parametrize(
    ("org_id", "bucket", "prefix", "error"),
    [
        ("org-a", DATA, "org-b/", InvalidInput),  # the data bucket is per tenant, never granted
        ("org-a", "not-a-dataset-bucket", "", InvalidInput),
        ("org-a", "Bad_Bucket", "", InvalidInput),
        ("org-a", SHARED, "team/../other/", InvalidInput),
        ("org-a", SHARED, "%2e%2e/", InvalidInput),
        ("nobody", SHARED, "team/", NotFound),
    ],
)
def test_grants_that_cannot_be_given(
    world: dict, org_id: str, bucket: str, prefix: str, error: type[Exception]
) -> None:
    # When an operator grants something that is not a plain dataset-bucket root of a real org
    with pytest.raises(error):
        world["svc"].grant(org_id, bucket, prefix)
    # Then no organization holds a grant
    assert world["svc"].list_grants("org-a") == [] and world["svc"].list_grants("org-b") == []


# The services that use locations


def _dataset_world() -> dict[str, object]:
    w = World(bucket=DATA, grant_buckets=(SHARED,))
    OrganizationAdmin(w.orgs, DEFAULT_MONTHLY_LIMITS).create(
        "org-a", "A", Plan.TEAM, period="2026-11"
    )
    w.orgs.add_grant("org-a", DataLocation(SHARED, "team/"))
    for key in ("org-a/cam/1.jpg", "org-a/cam/../../org-b/2.jpg", "org-b/secret.jpg"):
        w.objects.put(DATA, key, b"jpeg")
    ref = w.project_service.create("org-a", "P", [LabelEntry("v", "V", Geometry.BBOX)]).ref
    return {
        "svc": w.dataset_service,
        "tasks": w.tasks,
        "ref": ref,
        "projects": w.projects,
        "images": w.objects,
        "db": w.db,
        "world": w,
    }


def test_connect_checks_the_location_before_listing_and_skips_ambiguous_keys() -> None:
    # Given org A's project, and images in A's folder (one with a climbing key) and in B's
    w = _dataset_world()
    svc, ref, world = w["svc"], w["ref"], w["world"]
    # When A connects B's folder; Then it is refused before S3 is listed, and no task exists
    with pytest.raises(LocationRefused):
        svc.connect(A, ref, DatasetSource(DATA, prefix="org-b/"))
    assert w["images"].listed == []
    assert w["db"].tasks == {} and w["db"].datasets == {}
    # When A connects its own folder and the import runs; Then only the plain key is a task,
    # and the climbing one is reported outside the locations
    ds, _ = svc.connect(A, ref, DatasetSource(DATA, prefix="org-a/cam/"))
    world.loop.run_all()
    assert [t.image_key for t in w["db"].tasks.values()] == ["org-a/cam/1.jpg"]
    report = svc.get(ref, ds.dataset_id)[0].report
    assert report is not None
    assert report.skipped[SkipReason.OUTSIDE_LOCATIONS].examples == ("org-a/cam/../../org-b/2.jpg",)
    # When the locations no longer cover the dataset (a revoked grant), reconnect is refused
    # and the existing tasks stay
    with pytest.raises(LocationRefused):
        svc.reconnect(OrgLocations("org-a", ()), ref, ds.dataset_id)
    assert len(w["db"].tasks) == 1


def test_exports_leave_out_tasks_outside_the_locations() -> None:
    # Given a project with one task in A's folder and one planted with B's key
    w = _dataset_world()
    tasks, ref = w["tasks"], w["ref"]
    tasks.add_many(
        [
            Task(ref, "t1", "ds", DATA, "org-a/cam/1.jpg", LabelingState.WAITING),
            Task(ref, "t2", "ds", DATA, "org-b/secret.jpg", LabelingState.WAITING),
        ]
    )
    # When A exports COCO
    sink = io.BytesIO()
    ExportWriter(w["projects"], tasks).write(ref, ExportFormat.COCO, sink, "now", locations=A)
    # Then only A's image is named
    text = sink.getvalue().decode()
    assert "org-a/cam/1.jpg" in text and "org-b" not in text


def test_locations_of_an_organization_that_was_never_set_up_are_not_found(world: dict) -> None:
    # When the worker asks for the locations of an organization no operator created
    # Then NotFound (its tasks cannot be read at all)
    with pytest.raises(NotFound):
        world["svc"].locations("ghost")


@pytest.mark.parametrize("org_id", ["runs", "exports", "a/b", "..", "", " org", "x" * 200])
def test_organizations_are_set_up_only_with_ids_that_name_one_folder(org_id: str) -> None:
    # When an operator sets up an organization whose id is not one plain folder name (or the
    # product's own runs/ and exports/ folders)
    orgs = MemoryOrgs()
    with pytest.raises(InvalidInput) as err:
        OrganizationAdmin(orgs, DEFAULT_MONTHLY_LIMITS).create(
            org_id, "x", Plan.TEAM, period="2026-11"
        )
    # Then it is refused naming the field, and no organization exists
    assert err.value.field == "org_id"
    assert orgs.db.orgs == {}
