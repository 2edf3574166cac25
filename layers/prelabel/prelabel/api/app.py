"""The HTTP API: one Powertools resolver, routers per resource, one error mapping."""

from __future__ import annotations

import threading
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from prelabel.api.auth import org_of
from prelabel.api.errors import domain_error_response, error_response, validation_error_response
from prelabel.api.requests import BodyRefused, json_body
from prelabel.api.routes import (
    assistant,
    datasets,
    exports,
    images,
    jobs,
    models,
    project_detector,
    projects,
    quality,
    review_samples,
    reviewed_labels,
    runs,
    tasks,
)
from prelabel.container import container
from prelabel.domain.errors import DomainError, NotFound

MAX_BODY_BYTES = 64 * 1024
NOT_SET_UP = "organization is not set up"

logger = Logger(service="prelabel-api")
app = APIGatewayHttpResolver(enable_validation=True)
for module in (
    projects,
    datasets,
    tasks,
    assistant,
    exports,
    runs,
    images,
    jobs,
    reviewed_labels,
    quality,
    models,
    project_detector,
    review_samples,
):
    app.include_router(module.router)


@app.exception_handler(DomainError)
def _domain_error(exc: DomainError) -> Response[str]:
    return domain_error_response(exc)


@app.exception_handler(RequestValidationError)
def _validation_error(exc: RequestValidationError) -> Response[str]:
    return validation_error_response(exc.errors())


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_content(exc: RequestUnsupportedContentType) -> Response[str]:
    return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "the body must be application/json")


@app.not_found
def _no_route(exc: NotFoundError) -> Response[str]:
    event = app.current_event
    return error_response(
        HTTPStatus.NOT_FOUND, f"no route {event.request_context.http.method} {event.path[:200]}"
    )


@app.exception_handler(ServiceError)
def _service_error(exc: ServiceError) -> Response[str]:
    return error_response(HTTPStatus(exc.status_code), str(exc.msg))


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response[str]:
    # Details go to the logs only; the client gets the one error shape, as for every error.
    logger.exception("unhandled error")
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")


def _refusal(event: dict[str, Any]) -> tuple[Response[str] | None, dict[str, Any]]:
    """Checks that run before routing: the size cap, the identity, the organization, the body.

    Returns a refusal, or the event to route (its body decoded to checked JSON text).
    """
    raw = event.get("body") or ""
    if len(raw) > MAX_BODY_BYTES:
        return error_response(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"body: {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted",
            "body",
        ), event
    try:
        p = container("api")
        org_id = org_of(APIGatewayProxyEventV2(event), p.settings.org_claim)
        app.append_context(org_id=org_id)
        logger.append_keys(org_id=org_id)
        # Every request reads the organization: it must exist, and its data grants come along.
        try:
            org = p.orgs.get(org_id)
        except NotFound:
            return error_response(HTTPStatus.FORBIDDEN, NOT_SET_UP), event
        app.append_context(org=org)
        text = json_body(event, MAX_BODY_BYTES)
    except DomainError as exc:
        return domain_error_response(exc), event
    except BodyRefused as exc:
        return error_response(exc.status, exc.message, "body"), event
    if text is None:
        return None, event
    # The body is checked UTF-8 JSON text now; Powertools reads it only as application/json.
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
    headers["content-type"] = "application/json"
    return None, {**event, "headers": headers, "body": text, "isBase64Encoded": False}


def _as_proxy_result(response: Response[str]) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": response.content_type or "application/json"},
        "body": response.body,
        "isBase64Encoded": False,
    }


# The resolver keeps the request it routes on itself (the event, and the caller's organization
# in its context), so requests in one process are served one at a time, as one Lambda instance
# serves them. Callers on several threads (the local gateway and in-process tests at once) would
# otherwise get each other's organization.
_one_request_at_a_time = threading.Lock()


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with _one_request_at_a_time:
        return _handle(event, context)


@logger.inject_lambda_context(clear_state=True)
def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app.clear_context()
    refusal, routed = _refusal(event)
    if refusal is not None:
        return _as_proxy_result(refusal)
    return app.resolve(routed, context)
