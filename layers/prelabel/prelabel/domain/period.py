"""Billing periods: one calendar month in UTC, written as YYYY-MM."""

from __future__ import annotations

from datetime import UTC, datetime


def period_of(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("period_of needs an aware datetime")
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}"


def current_period() -> str:
    return period_of(datetime.now(UTC))
