"""Usage history and operator changes on DynamoDB Local: the reset records what the closed
period used in the same write, once; an operator change never undoes a charge."""

from __future__ import annotations

import threading

from prelabel.adapters.dynamodb.models import OrganizationModel
from prelabel.container import Container
from prelabel.domain.limits import Allowance
from prelabel.domain.plans import Plan
from prelabel.services.organizations import MonthlyReset, OrganizationAdmin


def test_reset_records_the_closed_period_once(ports: Container, make_org) -> None:
    # Given an organization that used 4,000 units in November
    make_org("pro", Plan.TEAM_PRO)
    ports.ledger.charge("pro", 4_000)
    limits = ports.settings.plan_limits
    # When December's reset runs twice, with 7 units charged in between, then January's
    dec = MonthlyReset(ports.orgs, ports.ledger, limits).run("2026-12")
    ports.ledger.charge("pro", 7)
    dec_again = MonthlyReset(ports.orgs, ports.ledger, limits).run("2026-12")
    jan = MonthlyReset(ports.orgs, ports.ledger, limits).run("2027-01")
    # Then November's 4,000 and December's 7 are recorded, each once, and January is open
    org = ports.orgs.get("pro")
    assert (dec.reset, dec_again.reset, jan.reset) == (["pro"], [], ["pro"])
    assert dict(org.usage) == {"2026-11": 4_000, "2026-12": 7}
    assert (org.period, org.remaining) == ("2027-01", 10_000)


def test_reset_of_an_organization_stored_before_usage_existed(ports: Container) -> None:
    # Given an organization item as the previous version wrote it: no usage map at all
    OrganizationModel(
        "old", name="Old", plan="TEAM", monthly_limit=1_000, remaining=250, period="2026-11"
    ).save()
    # When December's reset runs
    report = MonthlyReset(ports.orgs, ports.ledger, ports.settings.plan_limits).run("2026-12")
    # Then November's 750 are recorded and December opens with TEAM's amount
    org = ports.orgs.get("old")
    assert report.reset == ["old"]
    assert dict(org.usage) == {"2026-11": 750}
    assert (org.period, org.remaining, org.monthly_limit) == ("2026-12", 1_000, 1_000)


def test_operator_changes_racing_with_charges_lose_none(ports: Container, make_org) -> None:
    # Given a TEAM_PRO organization for the current period
    make_org("pro", Plan.TEAM_PRO, period="2026-11")
    admin = OrganizationAdmin(ports.orgs, ports.settings.plan_limits, lambda: "2026-11")

    # When 300 charges of 1 unit run while an operator adds 1 unit 30 times and then sets
    # this month's limit 20 times (the last to 10,100)
    def charge() -> None:
        for _ in range(300):
            ports.ledger.charge("pro", 1)

    worker = threading.Thread(target=charge)
    worker.start()
    for _ in range(30):
        admin.add_remaining("pro", 1)
    for limit in range(10_081, 10_101):
        admin.set_monthly_limit("pro", limit)
    worker.join()
    # Then every charge counts (300 used) whatever the interleaving, and the last limit holds
    assert ports.orgs.get("pro").allowance == Allowance(10_100, 9_800)
