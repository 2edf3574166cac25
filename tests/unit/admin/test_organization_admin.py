"""What an operator does to organizations, over the in-memory repositories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

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
    assert admin.usage("acme") == [PeriodUsage("2026-11", 4_000, Allowance(7_000, 3_000))]


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


def before_first(orgs: MemoryOrgs, write: str, meanwhile: Callable[[], object]) -> list[Any]:
    """Wraps the repository's `write` so that `meanwhile` (a charge, another operator's change)
    lands just before its first call; returns the calls' arguments, keywords last."""
    real = getattr(orgs, write)
    calls: list[Any] = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not calls:
            meanwhile()
        calls.append((*args, *kwargs.values()))
        return real(*args, **kwargs)

    setattr(orgs, write, wrapped)
    return calls


# What lands just before the operator's write, the change, and what must come of it.
RACES = {
    # A charge under a compare-and-set change: computed again, the charge kept.
    "charge during set-remaining": (
        "change_terms",
        lambda admin, orgs: orgs.charge("acme", 100),
        lambda admin: admin.set_remaining("acme", 5_000),
        2,
        Allowance(5_600, 5_000),
    ),
    # A charge moves only what is left: the new limit lands at the first write.
    "charge during set-monthly": (
        "add_allowance",
        lambda admin, orgs: orgs.charge("acme", 300),
        lambda admin: admin.set_monthly_limit("acme", 12_000),
        1,
        Allowance(12_000, 11_200),
    ),
    # Another operator's limit (11,000) refuses the stale write; the retry sets exactly 8,000.
    "other operator during set-monthly": (
        "add_allowance",
        lambda admin, orgs: admin.set_remaining("acme", 10_500),
        lambda admin: admin.set_monthly_limit("acme", 8_000),
        2,
        Allowance(8_000, 7_500),
    ),
}


@pytest.mark.parametrize("race", sorted(RACES))
def test_a_change_racing_with_a_write_loses_neither(
    admin: OrganizationAdmin, orgs: MemoryOrgs, race: str
) -> None:
    write, meanwhile, change, writes, expected = RACES[race]
    # Given an organization with 10,000 this month and 500 used, and something that lands
    # just before the operator's write
    admin.create("acme", "Acme", Plan.TEAM_PRO)
    orgs.charge("acme", 500)
    calls = before_first(orgs, write, lambda: meanwhile(admin, orgs))
    # When the operator makes the change
    after = change(admin)
    # Then it took the writes expected and its result counts what landed meanwhile
    assert len(calls) == writes
    assert after.allowance == expected


def test_taking_away_more_than_a_charge_left_is_refused(
    admin: OrganizationAdmin, orgs: MemoryOrgs
) -> None:
    # Given an organization with 100 left, whose run charges 60 just before the operator's write
    admin.create("acme", "Acme", Plan.TEAM_PRO)
    orgs.set_remaining("acme", 100)
    before_first(orgs, "add_allowance", lambda: orgs.charge("acme", 60))
    # When the operator takes 50 away (fine when read, too much once the charge landed)
    with pytest.raises(InvalidInput) as caught:
        admin.add_remaining("acme", -50)
    # Then it is refused naming what is left now, and nothing was taken
    assert caught.value.field == "units"
    assert "only 40 left" in caught.value.message
    assert orgs.get("acme").remaining == 40


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
        PeriodUsage("2026-12", 250, Allowance(10_000, 9_750)),
        PeriodUsage("2026-11", 4_000),
    ]
    assert usage[0].current and not usage[1].current
