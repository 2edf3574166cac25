"""Core integration fixtures: ports bound to fresh DynamoDB Local tables and a moto S3 bucket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prelabel.container import Container, use_container
from prelabel.domain.plans import Plan
from prelabel.services.organizations import OrganizationAdmin
from prelabel.settings import Settings


@pytest.fixture
def ports(settings: Settings) -> Iterator[Container]:
    c = Container(settings)
    use_container(c)
    yield c
    use_container(None)


@pytest.fixture
def make_org(ports: Container):  # type: ignore[no-untyped-def]
    def make(org_id: str, plan: Plan = Plan.TEAM_PRO, period: str = "2026-11") -> str:
        OrganizationAdmin(ports.orgs, ports.settings.plan_limits).create(
            org_id, org_id.upper(), plan, period=period
        )
        return org_id

    return make
