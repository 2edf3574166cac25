"""Task-list cursors: the position inside one project, sealed with a MAC bound to that project.

A cursor carries only the task id to start after; the partition of the ExclusiveStartKey is
always the caller's own project key, never anything the client sent, so no cursor can reach
another project or organization whatever its content. The MAC makes a garbled, edited or
replayed-from-another-project cursor a clear 400 instead of a silently different page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import Any

from prelabel.domain.errors import InvalidInput

MAC_BYTES = 12
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_TASK_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not _B64URL.fullmatch(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, project_key: str, task_id: str) -> bytes:
        message = f"{project_key}\x00{task_id}".encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()[:MAC_BYTES]

    def encode(self, project_key: str, last_key: dict[str, Any] | None) -> str | None:
        if not last_key:
            return None
        task_id = str(last_key["task_id"]["S"])
        return f"{_b64(task_id.encode())}.{_b64(self._mac(project_key, task_id))}"

    def decode(self, project_key: str, cursor: str) -> dict[str, Any]:
        """The ExclusiveStartKey for `project_key`; InvalidInput for anything not issued for it."""
        try:
            body, mac = cursor.split(".")
            task_id = _unb64(body).decode()
            valid = _TASK_ID.fullmatch(task_id) is not None and hmac.compare_digest(
                _unb64(mac), self._mac(project_key, task_id)
            )
        except (ValueError, UnicodeDecodeError, binascii.Error):
            valid = False
        if not valid:
            raise InvalidInput(
                f"cursor: {cursor[:40]!r} is not a cursor of this task list", field="cursor"
            )
        return {"project_key": {"S": project_key}, "task_id": {"S": task_id}}
