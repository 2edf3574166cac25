"""Task-list cursors: which stored list a page came from and the task id it ended at, sealed
with a MAC bound to the project and the list.

A cursor never carries a DynamoDB key: the partition a page reads is always derived from the
caller's own organization and project, so no cursor can reach another project whatever its
content. The MAC makes a garbled, edited or replayed-from-elsewhere cursor a clear 400 instead
of a silently different page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from prelabel.domain.errors import InvalidInput

MAC_BYTES = 12
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
# A task id (at most 128 characters), or a review-index key: a priority key before the id.
_TASK_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,160}$")
_SOURCE = re.compile(r"^[a-z]{1,16}$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not _B64URL.fullmatch(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, project_key: str, source: str, task_id: str) -> bytes:
        message = f"{project_key}\x00{source}\x00{task_id}".encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()[:MAC_BYTES]

    def encode(self, project_key: str, source: str, task_id: str) -> str:
        mac = self._mac(project_key, source, task_id)
        return f"{source}.{_b64(task_id.encode())}.{_b64(mac)}"

    def decode(self, project_key: str, source: str, cursor: str) -> str:
        """The task id to start after; InvalidInput for anything not issued for this list."""
        try:
            got_source, body, mac = cursor.split(".")
            task_id = _unb64(body).decode()
            valid = (
                got_source == source
                and _SOURCE.fullmatch(got_source) is not None
                and _TASK_ID.fullmatch(task_id) is not None
                and hmac.compare_digest(_unb64(mac), self._mac(project_key, source, task_id))
            )
        except (ValueError, UnicodeDecodeError, binascii.Error):
            valid = False
        if not valid:
            raise InvalidInput(
                f"cursor: {cursor[:40]!r} is not a cursor of this task list", field="cursor"
            )
        return task_id
