"""Ports for organizations and their AI-assistance ledger."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from prelabel.domain.entities import Organization
from prelabel.domain.limits import Allowance
from prelabel.domain.locations import DataLocation
from prelabel.domain.plans import Plan


class OrganizationRepository(ABC):
    @abstractmethod
    def create(self, org: Organization) -> None:
        """Store a new organization; Conflict if the id is taken."""

    @abstractmethod
    def get(self, org_id: str) -> Organization:
        """NotFound if absent."""

    @abstractmethod
    def iter_all(self) -> Iterator[Organization]: ...

    @abstractmethod
    def change_terms(self, current: Organization, plan: Plan, allowance: Allowance) -> bool:
        """Set the plan and this period's allowance, on condition that the plan, the period,
        the limit and the remaining units are still those of `current`; False when any of them
        changed since it was read (a charge, the reset, another operator). NotFound if absent."""

    @abstractmethod
    def add_allowance(self, org_id: str, units: int, *, limit_was: int | None = None) -> bool:
        """Add `units` (negative: take away) to this period's limit and remaining alike, in one
        atomic write that no charge can race; False when remaining would fall below zero, the
        organization is absent, or (given `limit_was`) the limit is no longer that."""

    @abstractmethod
    def add_grant(self, org_id: str, grant: DataLocation) -> bool:
        """Add a data-location grant; False if the organization holds it already.

        NotFound if the organization is absent. Concurrent changes to the same organization's
        grants must not lose one another.
        """

    @abstractmethod
    def remove_grant(self, org_id: str, grant: DataLocation) -> bool:
        """Remove a grant; False if the organization did not hold it. NotFound if absent."""


class Ledger(ABC):
    """The monthly AI-assistance limit of each organization."""

    @abstractmethod
    def remaining(self, org_id: str) -> int: ...

    @abstractmethod
    def charge(self, org_id: str, units: int) -> int:
        """Take up to `units` atomically; never below zero. Returns the units actually taken."""

    @abstractmethod
    def reset(self, org_id: str, closing: str, period: str, amount: int) -> bool:
        """Close `closing` (the stored period) and open `period` with `amount`, in one write:
        what `closing` used is recorded in the organization's usage, remaining and the limit
        become `amount`. Only while the stored period is still `closing` and before `period`;
        False otherwise (that period was opened already), so a repeat changes nothing."""
