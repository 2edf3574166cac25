"""Identifiers and timestamps: the only impure helpers the domain uses."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime


def new_id(prefix: str) -> str:
    # Time-ordered so DynamoDB range keys list newest-last without an index.
    return f"{prefix}_{time.time_ns():x}{uuid.uuid4().hex[:10]}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
