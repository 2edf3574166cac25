"""The one place that maps domain errors (and request validation errors) to HTTP responses.

Every 4xx and 5xx has one shape, `{"code", "message", "field"}` (schema `Error` in the OpenAPI
document). A deployed API Gateway's own refusals (its 401, 413, 429, 5xx) carry only
`{"message"}`, which is why `message` is the one member every client can rely on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from prelabel.domain.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAllowed,
    NotFound,
    StorageError,
    Unauthenticated,
)

SHOWN_VALUE_CHARS = 80

STATUS_OF: dict[type[DomainError], HTTPStatus] = {
    InvalidInput: HTTPStatus.BAD_REQUEST,
    Unauthenticated: HTTPStatus.UNAUTHORIZED,
    NotAllowed: HTTPStatus.FORBIDDEN,
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    StorageError: HTTPStatus.SERVICE_UNAVAILABLE,
}


def error_response(status: HTTPStatus, message: str, field: str | None = None) -> Response[str]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(error_body(status, message, field)),
    )


def error_body(status: HTTPStatus, message: str, field: str | None = None) -> dict[str, Any]:
    return {"code": error_code(status), "message": message, "field": field}


def error_code(status: HTTPStatus) -> str:
    return status.phrase.upper().replace(" ", "_").replace("-", "_")


def domain_error_response(exc: DomainError) -> Response[str]:
    status = next(
        (s for kind, s in STATUS_OF.items() if isinstance(exc, kind)),
        HTTPStatus.INTERNAL_SERVER_ERROR,
    )
    field = exc.field if isinstance(exc, InvalidInput) else None
    return error_response(status, exc.message, field)


def _field_path(loc: Sequence[Any]) -> str:
    # Powertools prefixes the location with "body"/"query"/"path"; keep the useful part.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    if not any(not p.isdigit() for p in parts):
        return str(loc[0]) if loc else "body"
    path = ""
    for part in parts:
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    return path


def _short(value: Any) -> str:
    # The value is named so the caller sees what was wrong, not echoed back at any length.
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 3] + "..."


def validation_error_response(errors: Sequence[dict[str, Any]]) -> Response[str]:
    """Name the field and the value, as for domain errors: `rows[0].min_confidence: ...`."""
    messages = []
    first_field = None
    for err in errors[:10]:
        field = _field_path(err.get("loc", ()))
        first_field = first_field or field
        value = err.get("input")
        shown = "" if value is None or isinstance(value, dict | list) else f" (got {_short(value)})"
        messages.append(f"{field}: {err.get('msg', 'invalid')}{shown}")
    return error_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, "; ".join(messages) or "invalid request", first_field
    )
