"""Users of organizations: an operator creates them with their organization fixed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prelabel.domain.errors import InvalidInput
from prelabel.ports.organizations import OrganizationRepository
from prelabel.ports.users import NewUser, User, UserDirectory

# Enough to catch a pasted wrong field; the directory validates the address itself too.
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class UserAdmin:
    orgs: OrganizationRepository
    directory: UserDirectory

    def create(self, new: NewUser) -> User:
        """A user of an organization that exists (NotFound otherwise): the token of a user
        whose organization was never set up could do nothing."""
        if len(new.email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.fullmatch(new.email):
            raise InvalidInput(f"email: {new.email[:80]!r} is not an email address", field="email")
        if new.name is not None and not 0 < len(new.name.strip()) <= MAX_NAME_LENGTH:
            raise InvalidInput(
                f"name: {new.name[:80]!r} must be 1 to {MAX_NAME_LENGTH} characters", field="name"
            )
        self.orgs.get(new.org_id)
        return self.directory.create_user(new)

    def list_users(self, org_id: str) -> list[User]:
        self.orgs.get(org_id)
        return sorted(self.directory.list_users(org_id), key=lambda u: u.email)
