"""The monthly reset handler at a month boundary, run as the schedule would run it."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest

from prelabel.container import Container, use_container
from prelabel.domain.plans import Plan
from prelabel.settings import Settings


def _env(settings: Settings) -> dict[str, str]:
    # What the template gives the reset function: its one table and the plan limits.
    return {
        "ORGANIZATIONS_TABLE": settings.organizations_table or "",
        "AWS_ENDPOINT_URL_DYNAMODB": settings.dynamodb_endpoint or "",
        "PLAN_LIMIT_FREE": "0",
        "PLAN_LIMIT_TEAM": "300",
        "PLAN_LIMIT_TEAM_PRO": "5000",
    }


CONTEXT = SimpleNamespace(
    function_name="reset",
    memory_limit_in_mb=128,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:reset",
    aws_request_id="req",
)


def test_reset_runs_once_per_month_at_the_boundary(
    ports: Container, make_org, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two organizations in November that spent part of their limits
    make_org("pro", Plan.TEAM_PRO)
    make_org("team", Plan.TEAM)
    ports.ledger.charge("pro", 4000)
    ports.ledger.charge("team", 999)
    for key, value in _env(settings).items():
        monkeypatch.setenv(key, value)
    use_container(None)  # a cold start: the function reads its environment
    from functions.reset_quota import app as entry  # the deployed entry file itself

    module = importlib.import_module("prelabel.entrypoints.reset_quota")
    assert entry.handler.__module__ == module.handler.__module__
    # When the schedule fires late on 30 November (same month), then twice on 1 December
    late_nov = module.handler({"time": "2026-11-30T23:59:59Z"}, CONTEXT)
    remaining_after_nov = (ports.ledger.remaining("pro"), ports.ledger.remaining("team"))
    dec = module.handler({"time": "2026-12-01T00:00:00Z"}, CONTEXT)
    ports.ledger.charge("pro", 7)
    dec_again = module.handler({"time": "2026-12-01T00:05:00Z"}, CONTEXT)
    # Then November changes nothing, December restores each plan amount once,
    # and the repeat neither resets nor undoes the 7 units spent in between
    assert late_nov["reset"] == []
    assert remaining_after_nov == (6000, 1)
    assert sorted(dec["reset"]) == ["pro", "team"]
    assert dec_again["reset"] == []
    assert sorted(dec_again["already_reset"]) == ["pro", "team"]
    assert ports.ledger.remaining("pro") == 4993
    assert ports.ledger.remaining("team") == 300
    assert ports.orgs.get("pro").period == "2026-12"
