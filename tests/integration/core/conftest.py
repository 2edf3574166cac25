"""Core integration fixtures: organizations made as an operator makes them (over `ports`)."""

from __future__ import annotations

import pytest

from prelabel.container import Container
from prelabel.domain.plans import Plan
from prelabel.services.organizations import OrganizationAdmin


@pytest.fixture
def make_org(ports: Container):  # type: ignore[no-untyped-def]
    def make(org_id: str, plan: Plan = Plan.TEAM_PRO, period: str = "2026-11") -> str:
        OrganizationAdmin(ports.orgs, ports.settings.plan_limits).create(
            org_id, org_id.upper(), plan, period=period
        )
        return org_id

    return make
