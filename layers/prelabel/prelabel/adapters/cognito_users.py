"""The user directory on a Cognito user pool (the template's UserPool: email is the username,
`custom:org_id` is set by the administrator at creation and is immutable)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from prelabel.domain.errors import Conflict, InvalidInput, NotFound, StorageError
from prelabel.ports.users import NewUser, User, UserDirectory

ORG_ATTRIBUTE = "custom:org_id"


def _attributes(raw: list[dict[str, str]]) -> dict[str, str]:
    return {a["Name"]: a.get("Value", "") for a in raw}


def _user(record: dict[str, Any], attributes_key: str) -> User:
    attrs = _attributes(record.get(attributes_key, []))
    created = record.get("UserCreateDate")
    return User(
        username=str(record["Username"]),
        email=attrs.get("email", ""),
        org_id=attrs.get(ORG_ATTRIBUTE, ""),
        status=str(record.get("UserStatus", "")),
        enabled=bool(record.get("Enabled", True)),
        name=attrs.get("name"),
        created_at=created.isoformat() if created is not None else "",
    )


class CognitoUserDirectory(UserDirectory):
    def __init__(self, make_client: Callable[[], Any], user_pool_id: str) -> None:
        self._make_client = make_client
        self._client: Any = None
        self._pool = user_pool_id

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def create_user(self, new: NewUser) -> User:
        attributes = [
            {"Name": "email", "Value": new.email},
            # The operator vouches for the address; Cognito sends the invitation to it.
            {"Name": "email_verified", "Value": "true"},
            {"Name": ORG_ATTRIBUTE, "Value": new.org_id},
        ]
        if new.name:
            attributes.append({"Name": "name", "Value": new.name.strip()})
        request: dict[str, Any] = {
            "UserPoolId": self._pool,
            "Username": new.email,
            "UserAttributes": attributes,
            "DesiredDeliveryMediums": ["EMAIL"],
        }
        if new.temporary_password is not None:
            request["TemporaryPassword"] = new.temporary_password
        if not new.send_invitation:
            request["MessageAction"] = "SUPPRESS"
        try:
            reply = self.client.admin_create_user(**request)
        except ClientError as exc:
            raise _domain_error(exc, new) from exc
        except BotoCoreError as exc:
            raise StorageError(f"create user failed: {exc}") from exc
        return _user(reply["User"], "Attributes")

    def list_users(self, org_id: str) -> list[User]:
        # ListUsers cannot filter on custom attributes: read the pool, keep the organization's.
        return [u for u in self._all_users() if u.org_id == org_id]

    def _all_users(self) -> Iterator[User]:
        try:
            for page in self.client.get_paginator("list_users").paginate(UserPoolId=self._pool):
                for record in page.get("Users", []):
                    yield _user(record, "Attributes")
        except ClientError as exc:
            raise _domain_error(exc, None) from exc
        except BotoCoreError as exc:
            raise StorageError(f"list users failed: {exc}") from exc


def _domain_error(exc: ClientError, new: NewUser | None) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "")
    message = exc.response.get("Error", {}).get("Message", "")
    if code == "UsernameExistsException" and new is not None:
        return Conflict(f"email: a user {new.email!r} exists already")
    if code == "InvalidPasswordException":
        return InvalidInput(f"temporary_password: {message}", field="temporary_password")
    if code == "InvalidParameterException":
        return InvalidInput(f"the user pool refused the user: {message}")
    if code == "ResourceNotFoundException":
        return NotFound(f"user pool: {message}")
    return StorageError(f"user pool call failed: {code or exc}")
