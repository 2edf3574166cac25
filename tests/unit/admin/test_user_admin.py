"""Users are created only for organizations that exist, with their organization fixed."""

from __future__ import annotations

import pytest

from prelabel.domain.errors import Conflict, InvalidInput, NotFound
from prelabel.domain.plans import Plan
from prelabel.ports.users import NewUser
from prelabel.services.organizations import OrganizationAdmin
from prelabel.services.users import UserAdmin
from tests.unit.fakes.store import MemoryOrgs
from tests.unit.fakes.users import MemoryUserDirectory


@pytest.fixture
def directory() -> MemoryUserDirectory:
    return MemoryUserDirectory()


@pytest.fixture
def users(directory: MemoryUserDirectory) -> UserAdmin:
    orgs = MemoryOrgs()
    admin = OrganizationAdmin(
        orgs, {Plan.FREE: 0, Plan.TEAM: 1, Plan.TEAM_PRO: 2}, lambda: "2026-11"
    )
    admin.create("acme", "Acme", Plan.TEAM_PRO)
    admin.create("beta", "Beta", Plan.TEAM)
    return UserAdmin(orgs, directory)


def test_users_are_listed_per_organization(
    users: UserAdmin, directory: MemoryUserDirectory
) -> None:
    # Given users created in two organizations, one without an invitation email
    users.create(NewUser("zoe@acme.example", "acme"))
    users.create(NewUser("al@acme.example", "acme", name="Al", temporary_password="Temp-pass-1234"))
    users.create(NewUser("bo@beta.example", "beta", send_invitation=False))
    # When the operator lists each organization's users
    acme = users.list_users("acme")
    beta = users.list_users("beta")
    # Then each sees only its own, by email, and invitations went where asked
    assert [(u.email, u.org_id) for u in acme] == [
        ("al@acme.example", "acme"),
        ("zoe@acme.example", "acme"),
    ]
    assert [u.email for u in beta] == ["bo@beta.example"]
    assert directory.invitations == ["zoe@acme.example", "al@acme.example"]


def test_refusals_name_what_is_wrong(users: UserAdmin, directory: MemoryUserDirectory) -> None:
    # Given one user of acme
    users.create(NewUser("al@acme.example", "acme"))
    # When a user is created for an unknown organization, twice, without an email, with no name
    with pytest.raises(NotFound, match="'ghost'"):
        users.create(NewUser("x@ghost.example", "ghost"))
    with pytest.raises(Conflict, match=r"al@acme\.example"):
        users.create(NewUser("al@acme.example", "acme"))
    fields = []
    for new in (NewUser("not-an-email", "acme"), NewUser("n@acme.example", "acme", name=" ")):
        with pytest.raises(InvalidInput) as caught:
            users.create(new)
        fields.append(caught.value.field)
    # Then each is refused (the field named) and the directory holds the one user only
    assert fields == ["email", "name"]
    assert list(directory.users) == ["al@acme.example"]
    with pytest.raises(NotFound, match="'ghost'"):
        users.list_users("ghost")
