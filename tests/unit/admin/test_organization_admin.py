"""What an operator does to organizations, over the in-memory repositories."""

from __future__ import annotations

import pytest

from prelabel.domain.entities import Organization
from prelabel.domain.errors import Conflict, InvalidInput, NotFound
from prelabel.domain.limits import Allowance
from prelabel.domain.plans import DEFAULT_MONTHLY_LIMITS, Plan
from prelabel.services.organizations import MonthlyReset, OrganizationAdmin, PeriodUsage
from tests.unit.fakes.store import MemoryOrgs

LIMITS = {**DEFAULT_MONTHLY_LIMITS, Plan.TEAM: 1_000, Plan.TEAM_PRO: 10_000}


class Clock:
    def __init__(self, period: str) -> None:
        self.period = period

    def __call__(self) -> str:
        return self.period


@pytest.fixture
def orgs() -> MemoryOrgs:
    return MemoryOrgs()


@pytest.fixture
def clock() -> Clock:
    return Clock("2026-11")


@pytest.fixture
def admin(orgs: MemoryOrgs, clock: Clock) -> OrganizationAdmin:
    return OrganizationAdmin(orgs, LIMITS, clock, pause=lambda attempt: None)


def test_create_starts_this_period_with_the_plan_amount(admin: OrganizationAdmin) -> None:
    # Given no organization yet
    # When an operator creates two, in November
    acme = admin.create("acme", "  Acme Corp ", Plan.TEAM_PRO)
    admin.create("beta", "Beta", Plan.TEAM)
    # Then each has its plan's amount for November, the name trimmed, and both are listed by id
    assert (acme.name, acme.plan, acme.period) == ("Acme Corp", Plan.TEAM_PRO, "2026-11")
    assert acme.allowance == Allowance(10_000, 10_000)
    assert [o.org_id for o in admin.list_all()] == ["acme", "beta"]
    assert admin.get("beta").remaining == 1_000


def test_create_refuses_ids_names_and_duplicates(admin: OrganizationAdmin) -> None:
    # Given one organization
    admin.create("acme", "Acme", Plan.TEAM)
    # When an operator creates a duplicate, a path-like id, a 65-character id, an empty name
    with pytest.raises(Conflict, match="'acme'"):
        admin.create("acme", "Again", Plan.TEAM)
    refused = []
    for org_id, name in [("a/b", "Slash"), ("x" * 65, "Long"), ("ok", "  ")]:
        with pytest.raises(InvalidInput) as caught:
            admin.create(org_id, name, Plan.TEAM)
        refused.append(caught.value.field)
    # Then each is refused naming its field, and nothing else was stored
    assert refused == ["org_id", "org_id", "name"]
    assert [o.org_id for o in admin.list_all()] == ["acme"]


def test_limit_changes_keep_what_was_used(orgs: MemoryOrgs, admin: OrganizationAdmin) -> None:
    # Given a TEAM_PRO organization that used 4,000 of 10,000 this month
    admin.create("acme", "Acme", Plan.TEAM_PRO)
    orgs.charge("acme", 4_000)
    # When an operator adds 500, then sets 2,000 left, then sets the month's limit to 7,000
    added = admin.add_remaining("acme", 500)
    set_left = admin.set_remaining("acme", 2_000)
    limited = admin.set_monthly_limit("acme", 7_000)
    # Then every step keeps 4,000 used
    assert added.allowance == Allowance(10_500, 6_500)
    assert set_left.allowance == Allowance(6_000, 2_000)
    assert limited.allowance == Allowance(7_000, 3_000)
    assert admin.usage("acme") == [PeriodUsage("2026-11", 4_000, 7_000, 3_000)]


def test_plan_change_applies_its_amount_now_unless_kept(
    orgs: MemoryOrgs, admin: OrganizationAdmin
) -> None:
    # Given a TEAM organization that used 300 of 1,000
    admin.create("acme", "Acme", Plan.TEAM)
    orgs.charge("acme", 300)
    # When it moves to TEAM_PRO, and then back to TEAM keeping this month's figures
    upgraded = admin.set_plan("acme", Plan.TEAM_PRO)
    kept = admin.set_plan("acme", Plan.TEAM, keep_limit=True)
    # Then the upgrade gives 10,000 less the 300 used; the second change leaves the figures
    assert (upgraded.plan, upgraded.allowance) == (Plan.TEAM_PRO, Allowance(10_000, 9_700))
    assert (kept.plan, kept.allowance) == (Plan.TEAM, Allowance(10_000, 9_700))


def test_a_charge_during_a_change_is_kept(admin: OrganizationAdmin, orgs: MemoryOrgs) -> None:
    # Given an organization whose run charges 100 units just as the operator's write lands
    admin.create("acme", "Acme", Plan.TEAM_PRO)
    real_change = orgs.change_terms
    charged: list[int] = []

    def charge_first(current: Organization, plan: Plan, allowance: Allowance) -> bool:
        if not charged:
            charged.append(orgs.charge("acme", 100))
        return real_change(current, plan, allowance)

    orgs.change_terms = charge_first  # type: ignore[method-assign]
    # When the operator sets 5,000 left
    after = admin.set_remaining("acme", 5_000)
    # Then the change was computed again after the charge: 5,000 left and the 100 still used
    assert charged == [100]
    assert after.allowance == Allowance(5_100, 5_000)


def test_taking_away_more_than_a_charge_left_is_refused(
    admin: OrganizationAdmin, orgs: MemoryOrgs
) -> None:
    # Given an organization with 100 left, whose run charges 60 just before the operator's write
    admin.create("acme", "Acme", Plan.TEAM_PRO)
    orgs.set_remaining("acme", 100)
    real_add = orgs.add_allowance

    def charge_first(org_id: str, units: int) -> bool:
        orgs.charge("acme", 60)
        return real_add(org_id, units)

    orgs.add_allowance = charge_first  # type: ignore[method-assign]
    # When the operator takes 50 away (fine when read, too much once the charge landed)
    with pytest.raises(InvalidInput) as caught:
        admin.add_remaining("acme", -50)
    # Then it is refused naming what is left now, and nothing was taken
    assert caught.value.field == "units"
    assert "only 40 left" in caught.value.message
    assert orgs.get("acme").remaining == 40


def test_a_charge_between_read_and_write_does_not_hold_up_a_new_monthly_limit(
    admin: OrganizationAdmin, orgs: MemoryOrgs
) -> None:
    # Given an organization with 10,000 this month, whose run charges 300 just before the
    # operator's write lands
    admin.create("acme", "Acme", Plan.TEAM_PRO)
    real_add = orgs.add_allowance
    writes: list[int] = []

    def charge_first(org_id: str, units: int, *, limit_was: int | None = None) -> bool:
        if not writes:
            orgs.charge("acme", 300)
        writes.append(units)
        return real_add(org_id, units, limit_was=limit_was)

    orgs.add_allowance = charge_first  # type: ignore[method-assign]
    # When the operator sets this month's limit to 12,000
    after = admin.set_monthly_limit("acme", 12_000)
    # Then the first write landed (the charge moved only what is left), and the 300 count
    assert writes == [2_000]
    assert after.allowance == Allowance(12_000, 11_700)


def test_another_operators_limit_change_in_between_is_computed_again(
    admin: OrganizationAdmin, orgs: MemoryOrgs
) -> None:
    # Given an organization with 10,000 this month, 500 used, and a second operator who adds
    # 1,000 just before the first one's write
    admin.create("acme", "Acme", Plan.TEAM_PRO)
    orgs.charge("acme", 500)
    real_add = orgs.add_allowance
    tries: list[int | None] = []

    def other_first(org_id: str, units: int, *, limit_was: int | None = None) -> bool:
        if not tries:
            real_add(org_id, 1_000)
        tries.append(limit_was)
        return real_add(org_id, units, limit_was=limit_was)

    orgs.add_allowance = other_first  # type: ignore[method-assign]
    # When the first operator sets the limit to 8,000
    after = admin.set_monthly_limit("acme", 8_000)
    # Then the stale write was refused and the retry set exactly 8,000, the 500 still used
    assert tries == [10_000, 11_000]
    assert after.allowance == Allowance(8_000, 7_500)


def test_changes_to_an_unknown_organization_are_not_found(admin: OrganizationAdmin) -> None:
    # Given no organization "ghost"
    # When an operator changes or reads it
    for change in (
        lambda: admin.add_remaining("ghost", 1),
        lambda: admin.set_plan("ghost", Plan.TEAM),
        lambda: admin.usage("ghost"),
    ):
        # Then each is NotFound naming it
        with pytest.raises(NotFound, match="'ghost'"):
            change()


def test_usage_by_month_comes_from_the_reset(
    orgs: MemoryOrgs, admin: OrganizationAdmin, clock: Clock
) -> None:
    # Given an organization that used 4,000 in November and 250 in December so far
    admin.create("acme", "Acme", Plan.TEAM_PRO)
    orgs.charge("acme", 4_000)
    december = MonthlyReset(orgs, orgs, LIMITS).run("2026-12")
    again = MonthlyReset(orgs, orgs, LIMITS).run("2026-12")
    orgs.charge("acme", 250)
    # When the operator reads its usage
    usage = admin.usage("acme")
    # Then December is live (limit - remaining) and November was recorded once, by the reset
    assert december.reset == ["acme"] and again.already_reset == ["acme"]
    assert usage == [
        PeriodUsage("2026-12", 250, 10_000, 9_750),
        PeriodUsage("2026-11", 4_000),
    ]
    assert usage[0].current and not usage[1].current
