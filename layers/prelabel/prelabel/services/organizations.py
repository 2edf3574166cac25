"""Organizations: provisioning, what operators change (plan, this period's limit), usage, and
the monthly reset of their AI-assistance limit."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from prelabel.domain.entities import Organization
from prelabel.domain.errors import Conflict, InvalidInput
from prelabel.domain.limits import (
    Allowance,
    add_remaining,
    plan_allowance,
    set_monthly_limit,
    set_remaining,
)
from prelabel.domain.locations import ORG_ID_PATTERN, valid_org_id
from prelabel.domain.period import current_period
from prelabel.domain.plans import Plan
from prelabel.ports.organizations import Ledger, OrganizationRepository

# Cognito's custom:org_id holds at most 64 characters (template.yaml): a longer id could never
# have users.
MAX_ORG_ID_LENGTH = 64
MAX_NAME_LENGTH = 200
# Compare-and-set tries of an operator change racing with charges; each retry re-reads.
CHANGE_TRIES = 20


def backoff(attempt: int) -> None:
    """A jittered pause after a lost compare-and-set, so a busy run's charges let it through."""
    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))  # noqa: S311 - timing, not secrets


@dataclass(frozen=True, slots=True)
class PeriodUsage:
    period: str
    used: int
    # The open period's live limit and remaining; the reset records what a closed period
    # used, not its limit.
    allowance: Allowance | None = None

    @property
    def current(self) -> bool:
        return self.allowance is not None


def usage_of(org: Organization) -> list[PeriodUsage]:
    """Newest first: the open period live (limit - remaining), then each closed period."""
    now = PeriodUsage(org.period, org.allowance.used, org.allowance)
    closed = [PeriodUsage(p, used) for p, used in org.usage.items() if p != org.period]
    return [now, *sorted(closed, key=lambda u: u.period, reverse=True)]


@dataclass(frozen=True)
class OrganizationAdmin:
    """What an operator does to organizations (the `prelabel-admin` CLI is a thin shell)."""

    orgs: OrganizationRepository
    plan_limits: Mapping[Plan, int]
    period: Callable[[], str] = current_period
    pause: Callable[[int], None] = backoff

    def create(
        self, org_id: str, name: str, plan: Plan, *, period: str | None = None
    ) -> Organization:
        """Conflict if the id is taken; its users and data folder are named by the id. The
        allowance is the plan's amount for `period` (this month unless given)."""
        # The id names the organization's folder of the data bucket: one plain path segment.
        if not valid_org_id(org_id):
            raise InvalidInput(
                f"org_id: {org_id[:80]!r} must match {ORG_ID_PATTERN.pattern} and not be reserved",
                field="org_id",
            )
        if len(org_id) > MAX_ORG_ID_LENGTH:
            raise InvalidInput(
                f"org_id: {org_id[:80]!r} is longer than {MAX_ORG_ID_LENGTH} characters "
                "(the user pool's custom:org_id holds at most that)",
                field="org_id",
            )
        clean = name.strip()
        if not clean or len(clean) > MAX_NAME_LENGTH:
            raise InvalidInput(
                f"name: {name[:80]!r} must be 1 to {MAX_NAME_LENGTH} characters", field="name"
            )
        limit = self.plan_limits[plan]
        org = Organization(org_id, clean, plan, limit, limit, period or self.period())
        self.orgs.create(org)
        return org

    def get(self, org_id: str) -> Organization:
        return self.orgs.get(org_id)

    def list_all(self) -> list[Organization]:
        return sorted(self.orgs.iter_all(), key=lambda o: o.org_id)

    def usage(self, org_id: str) -> list[PeriodUsage]:
        return usage_of(self.orgs.get(org_id))

    def set_plan(self, org_id: str, plan: Plan, *, keep_limit: bool = False) -> Organization:
        """The new plan; unless `keep_limit`, this period's allowance becomes the plan's
        amount less what was used already (the reset gives the full amount next month)."""
        amount = self.plan_limits[plan]
        return self._change(
            org_id,
            lambda org: (
                plan,
                org.allowance if keep_limit else plan_allowance(org.allowance, amount),
            ),
        )

    def set_remaining(self, org_id: str, remaining: int) -> Organization:
        return self._change(org_id, lambda org: (org.plan, set_remaining(org.allowance, remaining)))

    def add_remaining(self, org_id: str, units: int) -> Organization:
        """One atomic write (charges cannot race it); refused when it would leave less than
        nothing, with what is left named."""
        add_remaining(self.orgs.get(org_id).allowance, units)
        if not self.orgs.add_allowance(org_id, units):
            # Charged below it since the read: the rule names what is left now.
            add_remaining(self.orgs.get(org_id).allowance, units)
            raise Conflict(f"organization {org_id!r} was charged meanwhile; try again")
        return self.orgs.get(org_id)

    def set_monthly_limit(self, org_id: str, limit: int) -> Organization:
        """One atomic write by the difference, on condition the limit is still the one read:
        charges move only what is left, so a busy run cannot keep it from landing; another
        operator's change means again, and a limit below what was used meanwhile is refused."""
        for attempt in range(CHANGE_TRIES):
            read = self.orgs.get(org_id).allowance
            set_monthly_limit(read, limit)
            units = limit - read.monthly_limit
            if self.orgs.add_allowance(org_id, units, limit_was=read.monthly_limit):
                return self.orgs.get(org_id)
            self.pause(attempt)
        raise Conflict(f"organization {org_id!r} kept changing (another operator?); try again")

    def _change(
        self, org_id: str, change: Callable[[Organization], tuple[Plan, Allowance]]
    ) -> Organization:
        """Read, compute, write on condition nothing moved; a charge in between means again
        (with what it left), so an operator change never undoes a charge."""
        for attempt in range(CHANGE_TRIES):
            org = self.orgs.get(org_id)
            plan, allowance = change(org)
            if self.orgs.change_terms(org, plan, allowance):
                return self.orgs.get(org_id)
            self.pause(attempt)
        raise Conflict(f"organization {org_id!r} kept changing (runs charging?); try again")


@dataclass(frozen=True, slots=True)
class ResetReport:
    period: str
    reset: list[str]
    already_reset: list[str]


@dataclass(frozen=True)
class MonthlyReset:
    """The monthly schedule's work: every organization back to its plan's amount."""

    orgs: OrganizationRepository
    ledger: Ledger
    limits: Mapping[Plan, int]

    def run(self, period: str) -> ResetReport:
        """Once per period (safe to re-run); the period each organization closes has its usage
        recorded in the same write."""
        reset: list[str] = []
        already: list[str] = []
        for org in self.orgs.iter_all():
            done = org.period < period and self.ledger.reset(
                org.org_id, org.period, period, self.limits[org.plan]
            )
            (reset if done else already).append(org.org_id)
        return ResetReport(period, reset, already)
