"""API Gateway HTTP API (payload 2.0) events, as the gateway sends them after its JWT check."""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

LAMBDA_CONTEXT = SimpleNamespace(
    function_name="prelabel-api",
    memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:prelabel-api",
    aws_request_id="local-request",
)


def http_api_event(
    method: str,
    path: str,
    claims: dict[str, Any] | None,
    body: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
        "requestId": "local",
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
        "queryStringParameters": query or None,
        "headers": {"content-type": "application/json"},
        "requestContext": ctx,
        "body": body,
        "isBase64Encoded": False,
    }


@dataclass
class Reply:
    status: int
    body: Any

    @property
    def message(self) -> str:
        return str(self.body.get("message", "")) if isinstance(self.body, dict) else ""


def call_api(
    method: str,
    path: str,
    org: str | None,
    body: Any = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> Reply:
    """Call the API function's handler in-process as a user of `org` (None: no token)."""
    from prelabel.api.app import handler

    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    claims = None if org is None else {"sub": f"user-of-{org}", "custom:org_id": org}
    response = handler(http_api_event(method, path, claims, text, query), LAMBDA_CONTEXT)  # type: ignore[arg-type]
    payload = response.get("body") or ""
    return Reply(response["statusCode"], json.loads(payload) if payload else None)


@dataclass
class InProcessApi:
    """The API as one user of `org` sees it, called in-process (tests, benchmarks): the same
    `json` as the demo's HTTP client, so harness steps work over either."""

    org: str

    def call(
        self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None
    ) -> Reply:
        return call_api(method, path, self.org, body, query)

    def json(
        self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None
    ) -> Any:
        from prelabel_local.harness import ApiError

        reply = self.call(method, path, body, query)
        if reply.status >= 400:
            raise ApiError(method, path, reply.status, reply.body)
        return reply.body
