"""Ports for organizations and their AI-assistance ledger."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from prelabel.domain.entities import Organization
from prelabel.domain.locations import DataLocation


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
    def reset(self, org_id: str, period: str, amount: int) -> bool:
        """Set remaining to `amount` once for `period`; False when that period was already set."""
