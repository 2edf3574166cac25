"""Runs held mid-way: a project whose detector holds every batch after the first until the
test lets it through, so a page test can stop a run with a batch surely in flight; and what the
page and the API say once a run has stopped."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page, expect

from prelabel.container import Container
from prelabel.domain.entities import ProjectRef
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi
from prelabel_local.jwt_keys import SigningKey
from tests.e2e.page_steps import open_page, remaining, tid
from tests.integration.workflow.conftest import make_project, reconfigure
from tests.integration.workflow.test_stop_and_resume import GatedDetector


def current_run(ref: ProjectRef) -> dict[str, Any]:
    return harness.current_run(InProcessApi(ref.org_id), ref.project_id)


def expect_stopped(page: Page, ref: ProjectRef, labeled: int, left: int) -> dict[str, Any]:
    """The page's summary and the API's run agree: STOPPED with these figures; the run."""
    expect(page.locator(tid("run-summary"))).to_have_text(
        f"Stopped: {labeled} images pre-labeled, {left} left for a new run"
    )
    run = current_run(ref)
    assert (run["status"], run["labeled"], run["left"]) == ("STOPPED", labeled, left), run
    return run


@dataclass
class GatedProject:
    stack: Container
    gated: GatedDetector
    ref: ProjectRef
    # AI assistance left before the run.
    before: int


@contextmanager
def gated_project(
    stack: Container, page: Page, gateway_url: str, key: SigningKey, org: str, waiting: int
) -> Iterator[GatedProject]:
    """A mapped project with `waiting` WAITING photos, batches of 8 one at a time, and a detector
    that lets the first batch through and holds the next until the test opens `gated.gate`
    (opened on the way out whatever happened, so no Lambda thread waits on); the page open on
    it."""
    stack = reconfigure(stack, max_concurrency=1)
    gated = GatedDetector(stack.detector, open_calls=1)
    stack.override(detector=gated)
    ref = make_project(stack, org, waiting=waiting)
    before = remaining(ref.org_id)
    open_page(page, gateway_url, key, ref.org_id)
    try:
        yield GatedProject(stack, gated, ref, before)
    finally:
        gated.gate.set()
