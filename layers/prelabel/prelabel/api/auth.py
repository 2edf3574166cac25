"""The caller's organization, from the JWT claims API Gateway has already verified."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from prelabel.domain.errors import Unauthenticated


def org_of(event: APIGatewayProxyEventV2, claim: str) -> str:
    """Never from the body or the path: only the verified token decides the organization."""
    authorizer = event.request_context.authorizer
    claims = authorizer.jwt_claim if authorizer else None
    org_id = (claims or {}).get(claim)
    if not isinstance(org_id, str) or not org_id.strip():
        raise Unauthenticated("a verified token naming an organization is required")
    return org_id
