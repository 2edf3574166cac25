"""The web page in headless Chromium, served by the local gateway over the whole local stack.

The workflow fixtures (DynamoDB Local, moto with the real ASL and handlers, the local detector)
are imported from the workflow integration tests; the gateway verifies tokens signed with a key
of the test's own, so nothing is read from or written to the repository's `.local/`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from prelabel.container import Container
from prelabel_local.gateway import GatewayConfig, LocalGateway
from prelabel_local.jwt_keys import JwtVerifier, SigningKey, generate_key
from tests.integration.workflow.conftest import (
    detector_url,
    stack,
    state_machine_arn,
)

__all__ = [
    "browser",
    "detector_url",
    "gateway_url",
    "page",
    "signing_key",
    "stack",
    "state_machine_arn",
]

ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = ROOT / "web"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Where people look at the last screenshots (the test's own copies stay under tmp_path).
SHOTS_DIR = ROOT / "out" / "e2e-screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # CI installs Chromium (.ci/run); its absence is a failure, never a skip.
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return generate_key()


@pytest.fixture
def gateway_url(stack: Container, signing_key: SigningKey) -> Iterator[str]:
    server = LocalGateway(GatewayConfig(JwtVerifier.for_key(signing_key), WEB_DIR)).start()
    yield server.url
    server.stop()


def save_shot(page: Page, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot under the test's output, copied to out/e2e-screenshots/."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SHOTS_DIR / path.name)
    return path
