"""A world with an organization, a project and small step limits, so jobs take many steps (and
manifests of a few hundred bytes several slices, three of which run at once)."""

from __future__ import annotations

import gzip

import pytest

from prelabel.domain.entities import ProjectRef
from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.domain.locations import OrgLocations
from prelabel.domain.plans import DEFAULT_MONTHLY_LIMITS, Plan
from prelabel.services.jobs.context import StepLimits
from prelabel.services.organizations import OrganizationAdmin
from tests.unit.fakes.world import World

ORG = "acme"
BUCKET = "data"
SHARED = "share"


class JobWorld(World):
    ref: ProjectRef
    locs: OrgLocations

    def images(self, prefix: str, n: int, body: bytes = b"jpeg") -> list[str]:
        keys = [f"{prefix}img_{i:05d}.jpg" for i in range(n)]
        for key in keys:
            self.objects.put(BUCKET, key, body)
        return keys

    def manifest(self, key: str, lines: list[str], *, gz: bool = False) -> None:
        body = "".join(line + "\n" for line in lines).encode()
        self.objects.put(BUCKET, key, gzip.compress(body) if gz else body)


@pytest.fixture
def w() -> JobWorld:
    world = JobWorld(
        bucket=BUCKET,
        grant_buckets=(SHARED,),
        limits=StepLimits(
            list_pages=2,
            page_keys=5,
            manifest_lines=7,
            move_tasks=6,
            delete_tasks=4,
            export_progress_every=3,
            manifest_slice_bytes=256,
            slices_at_once=3,
        ),
    )
    world.objects.buckets.add(SHARED)
    OrganizationAdmin(world.orgs, DEFAULT_MONTHLY_LIMITS).create(
        ORG, "Acme", Plan.TEAM_PRO, period="2026-11"
    )
    world.ref = world.project_service.create(
        ORG, "Streets", [LabelEntry("veh", "Vehicle", Geometry.BBOX)]
    ).ref
    world.locs = world.locations.locations(ORG)
    return world
