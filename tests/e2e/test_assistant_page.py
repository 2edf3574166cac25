"""The AI-assistant page in headless Chromium over the whole local stack: the mapping table, start
(with the "only X of Y" confirmation), the live progress bar to 100%, the pre-labeled marker in
the task list, the preview canvas, stop and start again mid-run, and start refused at zero limit.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from prelabel.container import Container
from prelabel.domain.entities import ProjectRef
from prelabel_local.http_events import call_api
from prelabel_local.jwt_keys import SigningKey, issue_token
from prelabel_local.lambdas import LambdaRunner
from tests.e2e.conftest import save_shot
from tests.integration.workflow.conftest import all_tasks, make_project, reconfigure

pytestmark = pytest.mark.e2e

RUN_TIMEOUT_MS = 120_000


def tid(name: str) -> str:
    return f'[data-testid="{name}"]'


def open_page(page: Page, gateway_url: str, key: SigningKey, org: str) -> None:
    page.goto(f"{gateway_url}/#token={issue_token(key, org_id=org)}")
    expect(page.locator(tid("project-select"))).to_be_visible()


def add_row(page: Page, detector_class: str, entry: str, min_confidence: str = "") -> None:
    page.click(tid("mapping-add"))
    row = page.locator(tid("mapping-row")).last
    row.locator(tid("mapping-class")).select_option(detector_class)
    row.locator(tid("mapping-entry")).select_option(label=entry)
    if min_confidence:
        row.locator(tid("mapping-min")).fill(min_confidence)


def remaining(org: str) -> int:
    return int(call_api("GET", "/limit", org).body["remaining"])


def test_map_start_progress_marker_and_preview(
    stack: Container, gateway_url: str, signing_key: SigningKey, page: Page, tmp_path: Path
) -> None:
    # Given a TEAM_PRO project with 6 WAITING street photos and an empty mapping
    ref = make_project(stack, "org-ui", waiting=6)
    call_api("PUT", f"/projects/{ref.project_id}/mapping", ref.org_id, {"rows": []})
    before = remaining(ref.org_id)
    # When the page opens with the user's token in the URL fragment
    open_page(page, gateway_url, signing_key, ref.org_id)
    # Then start is disabled, saying the mapping has no rows, and the token left the address bar
    expect(page.locator(tid("start-button"))).to_be_disabled()
    expect(page.locator(tid("start-reason"))).to_contain_text("mapping has no rows")
    expect(page.locator(tid("eligible-count"))).to_have_text("6")
    assert "token" not in page.url

    # When the user maps person twice and saves
    add_row(page, "person", "Person")
    add_row(page, "person", "Person")
    page.click(tid("mapping-save"))
    # Then the server's error names the duplicate row next to the form, and nothing is saved
    expect(page.locator(tid("mapping-error"))).to_contain_text("person")
    assert call_api("GET", f"/projects/{ref.project_id}/mapping", ref.org_id).body["rows"] == []

    # When the duplicate is removed, vehicles are mapped (car at 0.4) and the mapping is saved
    page.locator(tid("mapping-remove")).last.click()
    add_row(page, "car", "Vehicle", "0.4")
    add_row(page, "truck", "Vehicle")
    add_row(page, "bus", "Vehicle")
    page.fill(tid("default-threshold"), "0.3")
    page.click(tid("mapping-save"))
    # Then it is saved as shown, and start becomes possible
    expect(page.locator(tid("mapping-status"))).to_contain_text("Saved · 4 rows")
    saved = call_api("GET", f"/projects/{ref.project_id}/mapping", ref.org_id).body
    assert {(r["detector_class"], r["entry_name"], r["min_confidence"]) for r in saved["rows"]} == {
        ("person", "Person", None),
        ("car", "Vehicle", 0.4),
        ("truck", "Vehicle", None),
        ("bus", "Vehicle", None),
    }
    assert saved["default_threshold"] == 0.3
    expect(page.locator(tid("start-button"))).to_be_enabled()
    save_shot(page, tmp_path, "1-mapped")

    # When the user starts pre-labeling
    page.click(tid("start-button"))
    # Then the progress bar climbs to 100% and the page says how many images were pre-labeled
    expect(page.locator(tid("run-status"))).to_have_text("COMPLETED", timeout=RUN_TIMEOUT_MS)
    expect(page.locator(tid("progress-percent"))).to_have_text("100%")
    expect(page.locator(tid("progress-bar"))).to_have_attribute("style", re.compile("width: 100%"))
    expect(page.locator(tid("run-summary"))).to_have_text("6 images pre-labeled")
    expect(page.locator(tid("progress-counts"))).to_contain_text("6 labeled · 0 failed")
    assert remaining(ref.org_id) == before - 6
    # And every task in the list carries the pre-labeled marker
    rows = page.locator(tid("task-row"))
    expect(rows).to_have_count(6)
    expect(
        page.locator(f'{tid("task-row")}[data-prelabeled="true"] {tid("prelabel-marker")}')
    ).to_have_count(6)

    # When the user opens the task with the most boxes
    best = max(all_tasks(ref), key=lambda t: t["label_count"])
    assert best["label_count"] > 0
    page.click(f'{tid("task-row")}[data-task-id="{best["task_id"]}"]')
    # Then the canvas shows the photo with its boxes, and the legend names the entries
    canvas = page.locator(tid("preview-canvas"))
    expect(canvas).to_have_attribute("data-drawn", "true")
    expect(canvas).to_have_attribute("data-boxes", str(best["label_count"]))
    expect(page.locator(tid("preview-label"))).to_have_count(best["label_count"])
    names = set(page.locator(tid("preview-label")).all_inner_texts())
    assert all(n.split()[0] in {"Person", "Vehicle"} for n in names), names
    width = canvas.evaluate("c => c.width")
    assert width > 100
    save_shot(page, tmp_path, "2-completed-preview")


def test_stop_mid_run_then_start_again_labels_every_task_once(
    stack: Container,
    gateway_url: str,
    signing_key: SigningKey,
    page: Page,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lambda_runner: LambdaRunner,
) -> None:
    # Given a mapped project with 40 WAITING photos, batches of 8, one batch at a time, each
    # batch followed by a pause so that a stop lands mid-run on any machine
    stack = reconfigure(stack, max_concurrency=1)
    label_batch = lambda_runner.handlers["LabelBatchFunction"]

    def slow_label_batch(event: dict[str, Any], context: Any) -> Any:
        result = label_batch(event, context)
        time.sleep(1.5)
        return result

    monkeypatch.setitem(lambda_runner.handlers, "LabelBatchFunction", slow_label_batch)
    ref = make_project(stack, "org-stop", waiting=40)
    before = remaining(ref.org_id)
    open_page(page, gateway_url, signing_key, ref.org_id)
    # When the user starts, and stops once the first batch is in
    page.click(tid("start-button"))
    expect(page.locator(tid("run-status"))).to_have_text("RUNNING")
    expect(page.locator(tid("stop-button"))).to_be_enabled()
    expect(page.locator(tid("progress-counts"))).to_contain_text(
        re.compile(r"^[1-9]\d* labeled"), timeout=RUN_TIMEOUT_MS
    )
    page.click(tid("stop-button"))
    # Then the run ends STOPPED with part of the work kept and the rest left for later
    expect(page.locator(tid("run-status"))).to_have_text("STOPPED", timeout=RUN_TIMEOUT_MS)
    expect(page.locator(tid("run-summary"))).to_contain_text("Stopped:")
    first = call_api("GET", f"/projects/{ref.project_id}/runs/current", ref.org_id).body
    assert 0 < first["labeled"] < 40, first
    # And the limit and the task list shown are those the stopped run left behind
    expect(page.locator(tid("limit-remaining"))).to_contain_text(f"{before - first['labeled']} of")
    save_shot(page, tmp_path, "3-stopped")
    marked = page.locator(f'{tid("task-row")}[data-prelabeled="true"]')
    expect(marked).to_have_count(first["labeled"])

    # When the user starts again
    expect(page.locator(tid("start-button"))).to_be_enabled()
    page.click(tid("start-button"))
    # Then the new run takes only what is left and completes
    expect(page.locator(tid("run-status"))).to_have_text("COMPLETED", timeout=RUN_TIMEOUT_MS)
    second = call_api("GET", f"/projects/{ref.project_id}/runs/current", ref.org_id).body
    assert second["run_id"] != first["run_id"]
    assert second["total"] == 40 - first["labeled"]
    assert second["labeled"] == second["total"]
    expect(page.locator(tid("run-summary"))).to_have_text(f"{second['labeled']} images pre-labeled")
    # And every task is pre-labeled exactly once: 40 marked, 40 charged
    tasks = all_tasks(ref)
    assert len(tasks) == 40 and all(t["prelabel_state"] == "DONE" for t in tasks)
    assert remaining(ref.org_id) == before - 40
    expect(marked).to_have_count(40)
    expect(page.locator(tid("eligible-count"))).to_have_text("0")
    save_shot(page, tmp_path, "4-restarted-completed")


def test_only_x_of_y_confirmation_then_start_disabled_at_zero_limit(
    stack: Container, gateway_url: str, signing_key: SigningKey, page: Page, tmp_path: Path
) -> None:
    # Given a mapped project with 3 WAITING photos and 2 images of AI assistance left
    ref: ProjectRef = make_project(stack, "org-limit", waiting=3, limit=2)
    open_page(page, gateway_url, signing_key, ref.org_id)
    # When the user starts
    page.click(tid("start-button"))
    # Then the page asks first: only 2 of 3 images will be pre-labeled
    expect(page.locator(tid("confirm-message"))).to_contain_text("Only 2 of 3 images")
    save_shot(page, tmp_path, "5-confirm")
    # When the user cancels, nothing starts
    page.click(tid("confirm-no"))
    expect(page.locator(tid("confirm-box"))).to_be_hidden()
    assert call_api("GET", f"/projects/{ref.project_id}/runs/current", ref.org_id).status == 404
    # When the user starts again and confirms
    page.click(tid("start-button"))
    page.click(tid("confirm-yes"))
    # Then 2 images are pre-labeled and the page says the limit ran out for the third
    expect(page.locator(tid("run-status"))).to_have_text("COMPLETED", timeout=RUN_TIMEOUT_MS)
    expect(page.locator(tid("run-summary"))).to_contain_text("2 images pre-labeled")
    expect(page.locator(tid("run-summary"))).to_contain_text("limit ran out")
    # And at zero limit the start button is disabled, with the reason shown
    expect(page.locator(tid("limit-remaining"))).to_have_text(
        re.compile(r"^0 of \d+$"), timeout=5_000
    )
    expect(page.locator(tid("start-button"))).to_be_disabled()
    expect(page.locator(tid("start-reason"))).to_contain_text("limit for this month is used up")
    expect(page.locator(tid("eligible-count"))).to_have_text("1")
    save_shot(page, tmp_path, "6-zero-limit")
