"""Core integration fixtures: ports bound to fresh DynamoDB Local tables and a moto S3 bucket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prelabel.api import deps
from prelabel.domain.plans import Plan
from prelabel.services.organizations import provision_organization
from prelabel.settings import Settings
from prelabel.wiring import Ports, dynamo_ports


@pytest.fixture
def ports(settings: Settings) -> Iterator[Ports]:
    p = dynamo_ports(settings)
    deps.use_ports(p)
    yield p
    deps.use_ports(None)


@pytest.fixture
def make_org(ports: Ports):  # type: ignore[no-untyped-def]
    def make(org_id: str, plan: Plan = Plan.TEAM_PRO, period: str = "2026-11") -> str:
        provision_organization(
            ports.orgs,
            ports.settings.plan_limits,
            org_id=org_id,
            name=org_id.upper(),
            plan=plan,
            period=period,
        )
        return org_id

    return make
