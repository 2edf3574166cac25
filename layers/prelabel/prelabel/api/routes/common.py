"""What every route needs: the caller's organization (set once per request by the app)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from prelabel.domain.entities import ProjectRef


def caller_org(router: Router) -> str:
    org_id: str = router.context["org_id"]
    return org_id


def project_ref(router: Router, project_id: str) -> ProjectRef:
    return ProjectRef(caller_org(router), project_id)
