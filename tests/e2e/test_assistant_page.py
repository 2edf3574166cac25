"""The AI-assistant page in headless Chromium over the whole local stack: the mapping (one row
per bbox entry, classes as searchable chips with their own thresholds), start, the live
counters and progress bar to 100%, the pre-labeled marker in the task list, the preview canvas,
stop and start again mid-run, the "only X of Y" notice before Start, and start refused at zero
limit.
"""

from __future__ import annotations

import re
from pathlib import Path

import requests
from playwright.sync_api import Page, expect

from prelabel.container import Container
from prelabel.domain.entities import ProjectRef
from prelabel_local.http_events import call_api
from prelabel_local.jwt_keys import SigningKey
from tests.e2e.conftest import save_shot
from tests.e2e.held_runs import current_run, expect_stopped, gated_project
from tests.e2e.page_steps import (
    RUN_TIMEOUT_MS,
    add_class,
    chip,
    entry_row,
    open_page,
    remaining,
    tid,
)
from tests.integration.workflow.conftest import all_tasks, make_project


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
    # And the mapping has one row per bbox entry (the polygon entry is no target), and the tab
    # carries the favicon
    expect(page.locator(tid("mapping-row"))).to_have_count(3)
    expect(page.get_by_role("rowheader")).to_have_text(["Vehicle", "Person", "Animal"])
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    served = requests.get(f"{gateway_url}/{icon}", timeout=10)
    assert served.status_code == 200 and "svg" in served.headers["Content-Type"]

    # When the user types "ca" into Animal's class search
    search = entry_row(page, "Animal").locator(tid("class-search"))
    search.click()
    search.fill("ca")
    # Then the 80 classes are narrowed to those containing it, names starting with it first
    options = entry_row(page, "Animal").locator(tid("class-option"))
    expect(options).to_have_text(["car", "cat", "carrot", "cake", "suitcase"])
    # When the user picks cat with the keyboard, then maps vehicles and a person by typing
    search.press("ArrowDown")
    search.press("Enter")
    search.press("Escape")
    for entry, typed in [("Vehicle", "car"), ("Vehicle", "tru"), ("Vehicle", "bus")]:
        add_class(page, entry, typed)
    add_class(page, "Person", "pers")
    # Then each class is a chip in its entry's row, and car is offered to Animal no more
    expect(entry_row(page, "Vehicle").locator(tid("mapping-chip"))).to_have_count(3)
    expect(chip(page, "Animal", "cat")).to_be_visible()
    search.fill("car")
    taken = entry_row(page, "Animal").locator(f'{tid("class-option")}[data-class="car"]')
    expect(taken).to_have_attribute("aria-disabled", "true")
    expect(taken).to_contain_text("in Vehicle")
    search.press("Escape")

    # When car gets its own threshold 0.4, bus an impossible 1.5, and the mapping is saved
    chip(page, "Vehicle", "car").locator(tid("chip-min")).fill("0.4")
    chip(page, "Vehicle", "bus").locator(tid("chip-min")).fill("1.5")
    page.fill(tid("default-threshold"), "0.3")
    page.click(tid("mapping-save"))
    # Then the API's error names the bus row's field, the bus chip is marked, nothing is saved
    expect(page.locator(tid("mapping-error"))).to_contain_text("rows[2].min_confidence")
    expect(chip(page, "Vehicle", "bus")).to_have_class(re.compile(r"\bbad\b"))
    assert call_api("GET", f"/projects/{ref.project_id}/mapping", ref.org_id).body["rows"] == []
    save_shot(page, tmp_path, "01-mapping-error")

    # When bus goes back to the default threshold and the mapping is saved
    chip(page, "Vehicle", "bus").locator(tid("chip-min")).fill("")
    page.click(tid("mapping-save"))
    # Then it is saved as shown: one API row per chip, grouped back by entry on the page
    expect(page.locator(tid("mapping-status"))).to_contain_text("Saved · 5 classes")
    saved = call_api("GET", f"/projects/{ref.project_id}/mapping", ref.org_id).body
    assert {(r["detector_class"], r["entry_name"], r["min_confidence"]) for r in saved["rows"]} == {
        ("cat", "Animal", None),
        ("car", "Vehicle", 0.4),
        ("truck", "Vehicle", None),
        ("bus", "Vehicle", None),
        ("person", "Person", None),
    }
    assert saved["default_threshold"] == 0.3
    expect(chip(page, "Vehicle", "car").locator(tid("chip-min"))).to_have_value("0.4")
    expect(chip(page, "Vehicle", "bus").locator(tid("chip-min"))).to_have_attribute(
        "placeholder", "0.3"
    )
    expect(page.locator(tid("start-button"))).to_be_enabled()
    expect(page.locator(tid("only-notice"))).to_be_hidden()
    save_shot(page, tmp_path, "02-mapped")

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
    assert all(n.split()[0] in {"Person", "Vehicle", "Animal"} for n in names), names
    width = canvas.evaluate("c => c.width")
    assert width > 100
    save_shot(page, tmp_path, "03-completed-preview")


def test_live_counters_then_stop_mid_run_then_start_again_labels_every_task_once(
    stack: Container, gateway_url: str, signing_key: SigningKey, page: Page, tmp_path: Path
) -> None:
    # Given a mapped project with 40 WAITING photos, batches of 8, one batch at a time, and a
    # detector that lets the first batch through and holds the next until the test opens it
    with gated_project(stack, page, gateway_url, signing_key, "org-stop", waiting=40) as g:
        before = g.before
        expect(page.locator(tid("limit-remaining"))).to_contain_text(f"{before:,} of")
        expect(page.locator(tid("eligible-count"))).to_have_text("40")
        # When the user starts, and the first batch is in while the run goes on
        page.click(tid("start-button"))
        expect(page.locator(tid("run-status"))).to_have_text("RUNNING")
        expect(page.locator(tid("progress-counts"))).to_contain_text(
            "8 labeled · 0 failed · 0 skipped (limit) · 32 left of 40", timeout=RUN_TIMEOUT_MS
        )
        # Then the counters follow the run live: AI assistance left and images waiting drop
        # by the batch while it is still RUNNING
        expect(page.locator(tid("limit-remaining"))).to_contain_text(f"{before - 8:,} of")
        expect(page.locator(tid("eligible-count"))).to_have_text("32")
        expect(page.locator(tid("run-status"))).to_have_text("RUNNING")
        expect(page.locator(tid("progress-percent"))).to_have_text("20%")
        # And tasks cannot leave WAITING meanwhile, and the past runs show the run's figures
        expect(page.locator(tid("move-all-to-backlog"))).to_be_disabled()
        running = page.locator(tid("run-row")).first
        expect(running.locator(tid("run-row-status"))).to_have_text("RUNNING")
        expect(running.locator(tid("run-row-labeled"))).to_have_text("8")
        save_shot(page, tmp_path, "04-running-live-counters")
        # When the user stops
        expect(page.locator(tid("stop-button"))).to_be_enabled()
        page.click(tid("stop-button"))
        # Then the run ends STOPPED with the first batch kept and the rest left for later
        expect(page.locator(tid("run-status"))).to_have_text("STOPPED", timeout=RUN_TIMEOUT_MS)
    ref = g.ref
    first = expect_stopped(page, ref, labeled=8, left=32)
    # And the limit and the task list shown are those the stopped run left behind
    expect(page.locator(tid("limit-remaining"))).to_contain_text(f"{before - 8:,} of")
    save_shot(page, tmp_path, "05-stopped")
    marked = page.locator(f'{tid("task-row")}[data-prelabeled="true"]')
    expect(marked).to_have_count(8)

    # When the user starts again
    expect(page.locator(tid("start-button"))).to_be_enabled()
    page.click(tid("start-button"))
    # Then the new run takes only what is left and completes
    expect(page.locator(tid("run-status"))).to_have_text("COMPLETED", timeout=RUN_TIMEOUT_MS)
    second = current_run(ref)
    assert second["run_id"] != first["run_id"]
    assert second["total"] == 32 and second["labeled"] == 32
    expect(page.locator(tid("run-summary"))).to_have_text("32 images pre-labeled")
    # And every task is pre-labeled exactly once: 40 marked, 40 charged
    tasks = all_tasks(ref)
    assert len(tasks) == 40 and all(t["prelabel_state"] == "DONE" for t in tasks)
    assert remaining(ref.org_id) == before - 40
    expect(marked).to_have_count(40)
    expect(page.locator(tid("eligible-count"))).to_have_text("0")
    # And the past runs list both, newest first, with their figures
    rows = page.locator(tid("run-row"))
    expect(rows).to_have_count(2)
    expect(rows.locator(tid("run-row-status"))).to_have_text(["COMPLETED", "STOPPED"])
    expect(rows.locator(tid("run-row-labeled"))).to_have_text(["32", "8"])
    expect(rows.locator(tid("run-row-total"))).to_have_text(["32", "40"])
    save_shot(page, tmp_path, "06-restarted-completed")


def test_only_x_of_y_notice_before_start_confirmation_then_start_disabled_at_zero_limit(
    stack: Container, gateway_url: str, signing_key: SigningKey, page: Page, tmp_path: Path
) -> None:
    # Given a mapped project with 3 WAITING photos and 2 images of AI assistance left
    ref: ProjectRef = make_project(stack, "org-limit", waiting=3, limit=2)
    # When the page opens
    open_page(page, gateway_url, signing_key, ref.org_id)
    # Then before anything is pressed, it says that only 2 of the 3 will be pre-labeled
    expect(page.locator(tid("only-notice"))).to_contain_text(
        "Only 2 of 3 waiting images will be pre-labeled"
    )
    expect(page.locator(tid("start-button"))).to_be_enabled()
    save_shot(page, tmp_path, "07-only-x-of-y-notice")
    # When the user starts
    page.click(tid("start-button"))
    # Then the API still asks first: only 2 of 3 images will be pre-labeled
    expect(page.locator(tid("confirm-message"))).to_contain_text("Only 2 of 3 images")
    save_shot(page, tmp_path, "08-confirm")
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
    # And at zero limit the start button is disabled, with the reason shown and no notice
    expect(page.locator(tid("limit-remaining"))).to_have_text(
        re.compile(r"^0 of [\d,]+$"), timeout=5_000
    )
    expect(page.locator(tid("start-button"))).to_be_disabled()
    expect(page.locator(tid("start-reason"))).to_contain_text("limit for this month is used up")
    expect(page.locator(tid("only-notice"))).to_be_hidden()
    expect(page.locator(tid("eligible-count"))).to_have_text("1")
    save_shot(page, tmp_path, "09-zero-limit")
