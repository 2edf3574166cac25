"""The review queue and the review sample on the page, in Chromium over the whole local stack:
the task list in review order after a real run, and a CVAT sample drawn, followed and
downloaded through its job."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from prelabel.container import Container
from prelabel.quality.priority import REST_VALUE
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi
from prelabel_local.jwt_keys import SigningKey
from tests.e2e.conftest import save_shot
from tests.e2e.page_steps import JOB_TIMEOUT_MS, open_page, tid
from tests.integration.workflow.conftest import MAPPING, make_project

pytestmark = pytest.mark.e2e


def _row_ids(page: Page) -> list[str]:
    return [str(r.get_attribute("data-task-id")) for r in page.locator(tid("task-row")).all()]


def test_review_order_and_a_review_sample_downloaded(
    stack: Container, gateway_url: str, signing_key: SigningKey, page: Page, tmp_path: Path
) -> None:
    # Given 12 photos pre-labeled by the real detector at a 0.1 threshold (many boxes lie just
    # above it), and 2 BACKLOG tasks that are not pre-labeled
    ref = make_project(stack, "org-queue", waiting=12, backlog=2)
    api = InProcessApi(ref.org_id)
    api.json("PUT", f"/projects/{ref.project_id}/mapping", {**MAPPING, "default_threshold": 0.1})
    harness.start_run(api, ref.project_id)
    assert harness.wait_for_run_end(api, ref.project_id)["labeled"] == 12
    queue = harness.all_tasks(api, ref.project_id, order="review")
    priorities = [t["review_priority"] for t in queue]
    assert len(queue) == 12 and priorities[0] < REST_VALUE and priorities[-1] == REST_VALUE
    by_id = sorted(t["task_id"] for t in harness.all_tasks(api, ref.project_id))
    # When the page opens and the task list is put in review order
    open_page(page, gateway_url, signing_key, ref.org_id)
    expect(page.locator(tid("task-row"))).to_have_count(14)
    assert _row_ids(page) == by_id
    page.select_option(tid("task-order"), "review")
    # Then it lists the 12 pre-labeled tasks, the one nearest its threshold first, as the API's
    # review order does; the state and pre-label filters step aside
    expect(page.locator(tid("task-row"))).to_have_count(12)
    assert _row_ids(page) == [t["task_id"] for t in queue]
    expect(page.locator(tid("task-state-filter"))).to_be_disabled()
    expect(page.locator(tid("task-prelabel-filter"))).to_be_disabled()
    # And the tasks ahead of the rest say why, the rest say nothing
    queued = sum(1 for p in priorities if p < REST_VALUE)
    badges = page.locator(tid("review-badge"))
    expect(badges).to_have_count(queued)
    first = page.locator(tid("task-row")).first.locator(tid("review-badge"))
    expect(first).to_have_text("near" if priorities[0] < 100_000 else "unsure")
    save_shot(page, tmp_path, "17-review-order")
    # And back in task order, every task is listed again
    page.select_option(tid("task-order"), "")
    expect(page.locator(tid("task-row"))).to_have_count(14)
    expect(page.locator(tid("task-state-filter"))).to_be_enabled()

    # When the user draws a CVAT review sample of 3 boxes a class
    page.select_option(tid("review-format"), "cvat")
    page.fill(tid("review-boxes"), "3")
    page.click(tid("review-button"))
    link = page.locator(tid("review-link"))
    expect(link).to_have_text(f"Download {ref.project_id}-review-cvat.zip", timeout=JOB_TIMEOUT_MS)
    # Then each mapped class has its line: boxes got of those asked, images, and why if short
    rows = page.locator(tid("review-class"))
    expect(rows).to_have_count(3)
    names = [r.locator("td").first.inner_text() for r in rows.all()]
    assert names == ["Vehicle", "Person", "Animal"]
    save_shot(page, tmp_path, "18-review-sample")
    with page.expect_download() as download:
        link.click()
    # And the browser saves the zip CVAT takes: COCO at annotations/instances_default.json with
    # as many images as the summary says
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    coco = json.loads(archive.read("annotations/instances_default.json"))
    summary = page.locator(tid("review-summary")).inner_text()
    assert summary.startswith(f"{len(coco['images'])} image")
    assert 1 <= len(coco["images"]) <= 9
    assert "prelabel_export.json" in archive.namelist()
