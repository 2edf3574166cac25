"""What the page tests share: locating by data-testid, opening the page as a user, mapping
classes with the type-ahead, and gates that hold the workflow's Lambda steps until a test has
looked at the page mid-way (no fixed sleeps)."""

from __future__ import annotations

import threading
from typing import Any

from playwright.sync_api import Locator, Page, expect

from prelabel.container import Container
from prelabel.domain.entities import ProjectRef
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi, call_api
from prelabel_local.jwt_keys import SigningKey, issue_token
from prelabel_local.lambdas import Handler
from tests.integration.workflow.conftest import CONFIG

RUN_TIMEOUT_MS = 120_000
# A job (import, move all, export) on moto's Step Functions: a few steps, each polled by moto.
JOB_TIMEOUT_MS = 60_000
GATE_TIMEOUT_S = 120


def tid(name: str) -> str:
    return f'[data-testid="{name}"]'


def open_page(page: Page, gateway_url: str, key: SigningKey, org: str) -> None:
    page.goto(f"{gateway_url}/#token={issue_token(key, org_id=org)}")
    expect(page.locator(tid("project-select"))).to_be_visible()


def entry_row(page: Page, entry: str) -> Locator:
    return page.locator(tid("mapping-row")).filter(has=page.get_by_role("rowheader", name=entry))


def add_class(page: Page, entry: str, typed: str) -> None:
    """Type part of a class name into the entry's search and take the first match (Enter)."""
    search = entry_row(page, entry).locator(tid("class-search"))
    search.click()
    search.fill(typed)
    search.press("Enter")


def chip(page: Page, entry: str, detector_class: str) -> Locator:
    return entry_row(page, entry).locator(f'{tid("mapping-chip")}[data-class="{detector_class}"]')


def remaining(org: str) -> int:
    return int(call_api("GET", "/limit", org).body["remaining"])


def bare_project(c: Container, org: str) -> ProjectRef:
    """An organization on TEAM_PRO with a project (the workflow tests' label configuration and
    mapping) and no dataset yet."""
    harness.seed_organization(c, org)
    api = InProcessApi(org)
    pid = harness.create_project(api, "Streets", CONFIG)
    api.json(
        "PUT",
        f"/projects/{pid}/mapping",
        {"rows": [{"detector_class": "car", "entry_id": "vehicle"}]},
    )
    return ProjectRef(org, pid)


class Held:
    """Wraps a Lambda handler: each invocation waits until the gate is open (a test opens it
    once it has seen what the page shows meanwhile; `close` holds the next ones again)."""

    def __init__(self, real: Handler) -> None:
        self._real = real
        self.gate = threading.Event()
        self.entered = 0
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._lock:
            self.entered += 1
        self.gate.wait(timeout=GATE_TIMEOUT_S)
        return self._real(event, context)

    def open(self) -> None:
        self.gate.set()

    def close(self) -> None:
        self.gate.clear()
