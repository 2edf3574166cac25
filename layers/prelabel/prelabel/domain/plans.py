"""Pricing plans and their monthly AI-assistance limits."""

from __future__ import annotations

from enum import StrEnum


class Plan(StrEnum):
    FREE = "FREE"
    TEAM = "TEAM"
    TEAM_PRO = "TEAM_PRO"


# Defaults documented in the README; each can be overridden per deployment (PLAN_LIMIT_<PLAN>).
DEFAULT_MONTHLY_LIMITS: dict[Plan, int] = {
    Plan.FREE: 0,
    Plan.TEAM: 1_000,
    Plan.TEAM_PRO: 10_000,
}

# Only this plan may run pre-labeling (spec: "allowed only for organizations on TEAM_PRO").
PRELABEL_PLANS = frozenset({Plan.TEAM_PRO})
