"""Request bodies are JSON text in UTF-8, or nothing: checked before any route sees them.

Powertools would otherwise try form and multipart parsing on other content types, and crash on
bytes that are not UTF-8 (500s a fuzzer finds in seconds).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any


class BodyRefused(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def is_json_type(content_type: str | None) -> bool:
    """`application/json` or `application/<x>+json`, in UTF-8 if a charset is named."""
    if not content_type:
        return False
    media, *params = (p.strip() for p in content_type.split(";"))
    media = media.lower()
    structured_json = media.startswith("application/") and media.endswith("+json")
    if media != "application/json" and not structured_json:
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            return False
    return True


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def json_body(event: Mapping[str, Any], max_bytes: int) -> str | None:
    """The body as checked JSON text; None when there is none. BodyRefused: 413, 415 or 400."""
    raw = event.get("body")
    if not raw:
        return None
    if not is_json_type(_header(event.get("headers"), "content-type")):
        raise BodyRefused(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "body: send JSON with Content-Type: application/json",
        )
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else None
    except (binascii.Error, ValueError) as exc:
        raise BodyRefused(HTTPStatus.BAD_REQUEST, "body: not valid base64") from exc
    if data is not None and len(data) > max_bytes:
        raise BodyRefused(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"body: {len(data)} bytes; at most {max_bytes} are accepted",
        )
    try:
        text = data.decode("utf-8") if data is not None else str(raw)
        text.encode("utf-8")  # lone surrogates in a text body are not UTF-8 either
    except UnicodeError as exc:
        raise BodyRefused(HTTPStatus.BAD_REQUEST, "body: not UTF-8 text") from exc
    try:
        json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise BodyRefused(HTTPStatus.BAD_REQUEST, f"body: not valid JSON ({exc})"[:300]) from exc
    return text
