"""Page cursors: which stored list a page came from and the last task id it showed.

A cursor never carries a DynamoDB key: the partition is always derived from the caller's
verified organization and project, so a crafted cursor can at most start a page elsewhere in
the caller's own list. Anything that does not decode to exactly this shape is refused (400).
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from prelabel.domain.errors import InvalidInput

_TASK_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def encode_cursor(source: str, last_task_id: str) -> str:
    raw = json.dumps({"s": source, "k": last_task_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, source: str) -> str:
    refused = InvalidInput(f"cursor: {cursor[:40]!r} is not a cursor of this list", field="cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        doc = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise refused from exc
    if not isinstance(doc, dict) or set(doc) != {"s", "k"} or doc["s"] != source:
        raise refused
    last = doc["k"]
    if not isinstance(last, str) or not _TASK_ID.match(last):
        raise refused
    return last
