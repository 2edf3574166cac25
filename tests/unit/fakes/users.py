"""An in-memory user directory with the user pool's rules that the services rely on."""

from __future__ import annotations

from prelabel.domain.errors import Conflict
from prelabel.ports.users import NewUser, User, UserDirectory


class MemoryUserDirectory(UserDirectory):
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.invitations: list[str] = []  # emails the directory would have sent

    def create_user(self, new: NewUser) -> User:
        if new.email in self.users:
            raise Conflict(f"email: a user {new.email!r} exists already")
        user = User(new.email, new.email, new.org_id, "FORCE_CHANGE_PASSWORD", True, new.name)
        self.users[new.email] = user
        if new.send_invitation:
            self.invitations.append(new.email)
        return user

    def list_users(self, org_id: str) -> list[User]:
        return [u for u in self.users.values() if u.org_id == org_id]
