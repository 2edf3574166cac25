"""The local HTTP gateway: what API Gateway (HTTP API with a JWT authorizer) does in front of the
API function, plus static files for the web page, on one same-origin port.

    python -m prelabel_local.gateway [--port 8080] [--static web/]

- `/api/...`: the Bearer token is checked as the deployed authorizer checks it (401
  otherwise, in the API's one error shape, whose `message` is all a deployed API Gateway's own
  refusal carries); the prefix is stripped, the request becomes an HTTP API
  payload 2.0 event with the verified claims, and `prelabel.api.app.handler` runs in-process.
- anything else: a file under the static folder (`/` is `index.html`).

Requests are served on threads; the API function's handler itself runs one event at a time,
as one Lambda execution environment does (its resolver keeps the caller's organization in module
state), which also covers in-process callers beside the gateway.
"""

from __future__ import annotations

import argparse
import base64
import json
import mimetypes
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from prelabel.api.errors import error_body
from prelabel_local.http_events import LAMBDA_CONTEXT, http_api_event
from prelabel_local.jwt_keys import (
    LOCAL_CLIENT_ID,
    LOCAL_ISSUER,
    InvalidToken,
    JwtVerifier,
    load_or_create_key,
)

ApiHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

# API Gateway's own limit on a request payload.
MAX_BODY_BYTES = 10 * 1024 * 1024
ALLOWED_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


def _default_handler() -> ApiHandler:
    from prelabel.api.app import handler

    return handler


@dataclass
class GatewayConfig:
    verifier: JwtVerifier
    static_dir: Path | None = None
    api_prefix: str = "/api"
    # None: prelabel.api.app.handler. Another handler must serve one event at a time itself.
    handler: ApiHandler | None = None
    quiet: bool = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    config: GatewayConfig


def build_event(
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    claims: dict[str, str],
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event: header names in lower case, repeated query values joined
    by commas, text bodies as text and other bodies base64-encoded, as API Gateway sends them."""
    params = {k: ",".join(v) for k, v in parse_qs(query, keep_blank_values=True).items()}
    text: str | None = None
    encoded = False
    if body:
        try:
            text = body.decode()
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
    event = http_api_event(method, path, claims, text, params or None)
    event["rawQueryString"] = query
    event["headers"] = headers
    event["isBase64Encoded"] = encoded
    return event


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def __getattr__(self, name: str) -> Any:
        # http.server answers 501 (an HTML page) for a method it has no do_X for; TRACE, QUERY
        # and the like are methods this API has no route for: 405 in the API's error shape.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def _method_not_allowed(self) -> None:
        if self._read_body() is None:
            return
        self._message(HTTPStatus.METHOD_NOT_ALLOWED, "Method Not Allowed", Allow=ALLOWED_METHODS)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.config.quiet:
            super().log_message(format, *args)

    # Answers

    def _send(
        self, status: int, body: bytes, headers: dict[str, str], cookies: list[str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        for cookie in cookies or []:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _message(self, status: HTTPStatus, message: str, **headers: str) -> None:
        # The API's one error shape; API Gateway's own refusals carry its `message` only.
        body = json.dumps(error_body(status, message)).encode()
        self._send(status, body, {"Content-Type": "application/json", **headers})

    # Routing

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        prefix = self.server.config.api_prefix.rstrip("/")
        if url.path == prefix or url.path.startswith(prefix + "/"):
            self._api(url.path[len(prefix) :] or "/", url.query)
        else:
            self._static(url.path)

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._message(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large")
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _api(self, path: str, query: str) -> None:
        body = self._read_body()
        if body is None:
            return
        try:
            claims = self.server.config.verifier.verify(self.headers.get("Authorization"))
        except InvalidToken:
            self._message(HTTPStatus.UNAUTHORIZED, "Unauthorized", **{"WWW-Authenticate": "Bearer"})
            return
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        event = build_event(self.command, path, query, headers, body, claims)
        handler = self.server.config.handler or _default_handler()
        try:
            result = handler(event, LAMBDA_CONTEXT)
        except Exception:
            # The function crashed: API Gateway answers 500 and the details go to the logs.
            traceback.print_exc()
            self._message(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")
            return
        self._proxy_result(result)

    def _proxy_result(self, result: dict[str, Any]) -> None:
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ",".join(str(v) for v in values)
        headers.setdefault("Content-Type", "application/json")
        self._send(
            int(result.get("statusCode", 200)), body, headers, list(result.get("cookies") or [])
        )

    def _static(self, url_path: str) -> None:
        root = self.server.config.static_dir
        if self.command not in ("GET", "HEAD") or root is None:
            self._message(HTTPStatus.NOT_FOUND, "Not Found")
            return
        base = root.resolve()
        target = (base / unquote(url_path).lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        # After decoding and resolving ".." and links, anything outside the folder stays out.
        if not target.is_relative_to(base) or not target.is_file():
            self._message(HTTPStatus.NOT_FOUND, "Not Found")
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._send(
            HTTPStatus.OK,
            target.read_bytes(),
            {"Content-Type": content_type, "Cache-Control": "no-store"},
        )


class LocalGateway:
    def __init__(self, config: GatewayConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = _Server((host, port), _Handler)
        self.server.config = config
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalGateway:
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="local-gateway", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prelabel_local.gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--static", type=Path, default=None, help="folder served under /")
    parser.add_argument("--api-prefix", default="/api")
    parser.add_argument("--key-dir", type=Path, default=None, help="default: <repo>/.local")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    verifier = JwtVerifier.for_key(
        load_or_create_key(args.key_dir),
        issuer=os.environ.get("PRELABEL_JWT_ISSUER", LOCAL_ISSUER),
        audiences=(os.environ.get("PRELABEL_JWT_AUDIENCE", LOCAL_CLIENT_ID),),
    )
    config = GatewayConfig(verifier, args.static, args.api_prefix, quiet=not args.verbose)
    gateway = LocalGateway(config, args.host, args.port)
    print(f"gateway on {gateway.url} (API under {args.api_prefix}/)", flush=True)
    # A launcher stops its children with SIGTERM; leave as cleanly as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        gateway.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        gateway.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
