"""The HTTP API: one Powertools resolver, routers per resource, one error mapping."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from prelabel.api.auth import org_of
from prelabel.api.errors import domain_error_response, error_response, validation_error_response
from prelabel.api.routes import assistant, datasets, exports, images, projects, runs, tasks
from prelabel.container import container
from prelabel.domain.errors import DomainError

MAX_BODY_BYTES = 64 * 1024

logger = Logger(service="prelabel-api")
app = APIGatewayHttpResolver(enable_validation=True)
for module in (projects, datasets, tasks, assistant, exports, runs, images):
    app.include_router(module.router)


@app.exception_handler(DomainError)
def _domain_error(exc: DomainError) -> Response[str]:
    return domain_error_response(exc)


@app.exception_handler(RequestValidationError)
def _validation_error(exc: RequestValidationError) -> Response[str]:
    return validation_error_response(exc.errors())


def _refusal(event: dict[str, Any]) -> Response[str] | None:
    """Checks that run before routing and body validation: the size cap, then the identity."""
    body = event.get("body") or ""
    if len(body) > MAX_BODY_BYTES:
        return error_response(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"body: {len(body)} bytes; at most {MAX_BODY_BYTES} are accepted",
            "body",
        )
    try:
        org_id = org_of(APIGatewayProxyEventV2(event), container("api").settings.org_claim)
    except DomainError as exc:
        return domain_error_response(exc)
    app.append_context(org_id=org_id)
    logger.append_keys(org_id=org_id)
    return None


def _as_proxy_result(response: Response[str]) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": response.content_type or "application/json"},
        "body": response.body,
        "isBase64Encoded": False,
    }


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app.clear_context()
    refusal = _refusal(event)
    if refusal is not None:
        return _as_proxy_result(refusal)
    return app.resolve(event, context)
