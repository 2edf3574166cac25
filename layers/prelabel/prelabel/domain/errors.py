"""Typed domain errors. The API maps each kind to one HTTP status in `prelabel.api.errors`."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The object does not exist for the caller (another organization's objects included)."""


class InvalidInput(DomainError):
    """The request is well-formed but breaks a domain rule; names the field and value."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(DomainError):
    """The request clashes with the current state (e.g. a run is active)."""


class NotAllowed(DomainError):
    """The caller's plan or limit does not allow this action."""


class Unauthenticated(DomainError):
    """No verified identity, or the identity names no organization."""


class StorageError(DomainError):
    """A storage or service call failed; adapters raise it `from` the original error."""


class Busy(StorageError):
    """A concurrent write held one of the items: nothing was written, and trying again is safe."""
