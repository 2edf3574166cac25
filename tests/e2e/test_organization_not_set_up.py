"""The page, for a user whose token is valid but whose organization no operator has set up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from prelabel.container import Container
from prelabel_local.gateway import GatewayConfig, LocalGateway
from prelabel_local.jwt_keys import JwtVerifier, SigningKey, issue_token
from tests.e2e.conftest import WEB_DIR


@pytest.fixture
def page_url(ports: Container, signing_key: SigningKey) -> Iterator[str]:
    # The API alone is enough here: no workflow, no detector.
    server = LocalGateway(GatewayConfig(JwtVerifier.for_key(signing_key), WEB_DIR)).start()
    yield server.url
    server.stop()


def test_the_page_says_the_organization_is_not_set_up(
    page: Page, page_url: str, signing_key: SigningKey, ports: Container
) -> None:
    # Given a valid token of an organization that has no item
    token = issue_token(signing_key, org_id="org-never-provisioned")
    # When the user opens the page with it
    page.goto(f"{page_url}/#token={token}")
    # Then the page says so, and shows no project picker or workspace
    expect(page.locator('[data-testid="global-error"]')).to_have_text("organization is not set up")
    expect(page.locator('[data-testid="project-select"]')).to_be_hidden()
    assert ports.projects.list_projects("org-never-provisioned") == []
