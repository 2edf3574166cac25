"""Port for the user directory (the deployment's Cognito user pool)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class User:
    username: str  # what the user signs in with (the pool uses the email address)
    email: str
    org_id: str
    status: str  # e.g. FORCE_CHANGE_PASSWORD until the first sign-in, then CONFIRMED
    enabled: bool
    name: str | None = None
    created_at: str = ""


@dataclass(frozen=True, slots=True)
class NewUser:
    email: str
    org_id: str
    name: str | None = None
    # None: the directory makes one. Either way the user must change it at first sign-in.
    temporary_password: str | None = None
    # Whether the directory emails the invitation (with the temporary password).
    send_invitation: bool = True


class UserDirectory(ABC):
    @abstractmethod
    def create_user(self, new: NewUser) -> User:
        """Conflict if the email is taken; InvalidInput naming the field the directory refused."""

    @abstractmethod
    def list_users(self, org_id: str) -> list[User]:
        """The users whose organization is `org_id`."""
