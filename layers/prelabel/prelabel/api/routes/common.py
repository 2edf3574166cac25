"""What every route needs: the caller's organization (read once per request by the app)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from prelabel.container import container
from prelabel.domain.entities import Organization, ProjectRef
from prelabel.domain.locations import OrgLocations

# Ids in paths: what the service generates (`prj_...`, `ds_...`, `t_...`); anything else names
# nothing, and is refused before it reaches DynamoDB (whose keys stop at 1,024 bytes).
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
IdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]


def caller_org(router: Router) -> str:
    org_id: str = router.context["org_id"]
    return org_id


def caller_organization(router: Router) -> Organization:
    """The organization item as the app read it before routing (it exists: checked there)."""
    org: Organization = router.context["org"]
    return org


def caller_locations(router: Router) -> OrgLocations:
    return container().locations.locations_of(caller_organization(router))


def project_ref(router: Router, project_id: str) -> ProjectRef:
    return ProjectRef(caller_org(router), project_id)
