"""This period's allowance: operator changes move the limit and what is left, never `used`."""

from __future__ import annotations

import pytest

from prelabel.domain.errors import InvalidInput
from prelabel.domain.limits import (
    MAX_LIMIT,
    Allowance,
    add_remaining,
    plan_allowance,
    set_monthly_limit,
    set_remaining,
)

# 10,000 this month, 4,000 used.
SPENT = Allowance(monthly_limit=10_000, remaining=6_000)


def test_every_change_keeps_what_was_used() -> None:
    # Given an organization that used 4,000 of 10,000
    # When an operator sets what is left, adds, takes away, or sets the limit
    changed = [
        set_remaining(SPENT, 500),
        add_remaining(SPENT, 2_500),
        add_remaining(SPENT, -6_000),
        set_monthly_limit(SPENT, 5_000),
    ]
    # Then each keeps 4,000 used and moves the limit and what is left together
    assert changed == [
        Allowance(4_500, 500),
        Allowance(12_500, 8_500),
        Allowance(4_000, 0),
        Allowance(5_000, 1_000),
    ]
    assert {a.used for a in changed} == {4_000}


def test_refusals_name_the_field_and_the_value() -> None:
    # Given the same allowance
    # When changes would go below zero, below what was used, past the cap or are not numbers
    cases = [
        (lambda: add_remaining(SPENT, -6_001), "units", "-6001"),
        (lambda: set_remaining(SPENT, -1), "remaining", "-1"),
        (lambda: set_monthly_limit(SPENT, 3_999), "monthly_limit", "3999"),
        (lambda: set_remaining(SPENT, MAX_LIMIT + 1), "remaining", str(MAX_LIMIT + 1)),
        (lambda: set_remaining(SPENT, True), "remaining", "True"),  # type: ignore[arg-type]
    ]
    for change, field, value in cases:
        with pytest.raises(InvalidInput) as caught:
            change()
        # Then each is refused, naming the field and the value given
        assert caught.value.field == field
        assert value in caught.value.message


def test_a_plan_change_gives_the_plan_amount_less_what_was_used() -> None:
    # Given 4,000 used this month
    # When the plan's amount becomes 1,000 (a downgrade) or 50,000 (an upgrade)
    down = plan_allowance(SPENT, 1_000)
    up = plan_allowance(SPENT, 50_000)
    # Then the downgrade leaves nothing (and still shows 4,000 used); the upgrade leaves 46,000
    assert down == Allowance(4_000, 0)
    assert up == Allowance(50_000, 46_000)
