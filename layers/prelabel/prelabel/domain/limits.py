"""This period's AI-assistance allowance of an organization, and how operators change it.

`monthly_limit` is what the period started with plus what operators added since; `remaining`
is what is left. `used` (their difference) is what was charged this period, and no operator
change alters it: only charges do. The monthly reset records `used` of the period it closes.
"""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.errors import InvalidInput

# Far above any plan; a limit past it is a typo (an extra zero or two), not a deal.
MAX_LIMIT = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Allowance:
    monthly_limit: int
    remaining: int

    @property
    def used(self) -> int:
        return max(0, self.monthly_limit - self.remaining)


def _amount(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field}: {value!r} is not a whole number", field=field)
    if not 0 <= value <= MAX_LIMIT:
        raise InvalidInput(f"{field}: {value} must be between 0 and {MAX_LIMIT:,}", field=field)
    return value


def set_remaining(current: Allowance, remaining: int) -> Allowance:
    """`remaining` left this period; the limit moves with it so that `used` stays."""
    left = _amount(remaining, "remaining")
    return Allowance(current.used + left, left)


def add_remaining(current: Allowance, units: int) -> Allowance:
    """`units` more (or fewer, when negative) this period; never below zero left."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise InvalidInput(f"units: {units!r} is not a whole number", field="units")
    if current.remaining + units < 0:
        raise InvalidInput(
            f"units: {units} would leave {current.remaining + units} remaining "
            f"(only {current.remaining} left this period)",
            field="units",
        )
    return set_remaining(current, current.remaining + units)


def set_monthly_limit(current: Allowance, limit: int) -> Allowance:
    """This period's limit becomes `limit`; what was used already counts against it."""
    _amount(limit, "monthly_limit")
    if limit < current.used:
        raise InvalidInput(
            f"monthly_limit: {limit} is below the {current.used} images already used this "
            f"period; set it to at least {current.used}, or set remaining to 0",
            field="monthly_limit",
        )
    return Allowance(limit, limit - current.used)


def plan_allowance(current: Allowance, amount: int) -> Allowance:
    """A plan change applied now: the plan's `amount` minus what was used, never below zero
    left (a downgrade below what was used leaves nothing, and keeps `used` as it was)."""
    left = max(0, _amount(amount, "amount") - current.used)
    return Allowance(current.used + left, left)
