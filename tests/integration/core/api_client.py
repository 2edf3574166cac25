"""Drives the API Lambda handler with API Gateway HTTP API (v2) events, as the gateway sends them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from prelabel.api.app import handler

CONTEXT = SimpleNamespace(
    function_name="api",
    memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:api",
    aws_request_id="req-1",
)


@dataclass
class Reply:
    status: int
    body: Any

    @property
    def message(self) -> str:
        return str(self.body.get("error", {}).get("message", "")) if self.body else ""


def event(
    method: str,
    path: str,
    claims: dict[str, str] | None,
    body: Any = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    ctx: dict[str, Any] = {
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
        "requestId": "r",
        "routeKey": "$default",
        "stage": "$default",
    }
    if claims is not None:
        ctx["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "queryStringParameters": query,
        "headers": {"content-type": "application/json"},
        "requestContext": ctx,
        "body": text,
        "isBase64Encoded": False,
    }


def call(
    method: str,
    path: str,
    org: str | None,
    body: Any = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> Reply:
    claims = None if org is None else {"sub": f"user-of-{org}", "custom:org_id": org}
    response = handler(event(method, path, claims, body, query, raw_body), CONTEXT)  # type: ignore[arg-type]
    text = response.get("body") or ""
    return Reply(response["statusCode"], json.loads(text) if text else None)
