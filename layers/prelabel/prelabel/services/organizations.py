"""Organizations: provisioning and the monthly reset of their AI-assistance limit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from prelabel.domain.entities import Organization
from prelabel.domain.errors import InvalidInput
from prelabel.domain.locations import ORG_ID_PATTERN, valid_org_id
from prelabel.domain.plans import Plan
from prelabel.ports.organizations import Ledger, OrganizationRepository


def provision_organization(
    orgs: OrganizationRepository,
    limits: Mapping[Plan, int],
    *,
    org_id: str,
    name: str,
    plan: Plan,
    period: str,
) -> Organization:
    # The id names the organization's folder of the data bucket: one plain path segment.
    if not valid_org_id(org_id):
        raise InvalidInput(
            f"org_id: {org_id[:80]!r} must match {ORG_ID_PATTERN.pattern} and not be reserved",
            field="org_id",
        )
    limit = limits[plan]
    org = Organization(org_id, name, plan, limit, limit, period)
    orgs.create(org)
    return org


@dataclass(frozen=True, slots=True)
class ResetReport:
    period: str
    reset: list[str]
    already_reset: list[str]


def reset_monthly_limits(
    orgs: OrganizationRepository, ledger: Ledger, limits: Mapping[Plan, int], period: str
) -> ResetReport:
    """Restore every organization to its plan's amount, once per period (safe to re-run)."""
    reset: list[str] = []
    already: list[str] = []
    for org in orgs.iter_all():
        done = ledger.reset(org.org_id, period, limits[org.plan])
        (reset if done else already).append(org.org_id)
    return ResetReport(period, reset, already)
