"""Reviewing a project's results on the page in Chromium over the whole local stack: the past
runs with their figures, a failed task's reason on a cleared canvas, and an export downloaded
through the export job."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import requests
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from prelabel.container import Container
from prelabel.services.organizations import OrganizationAdmin
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi, call_api
from prelabel_local.jwt_keys import SigningKey
from tests.e2e.conftest import save_shot
from tests.e2e.page_steps import JOB_TIMEOUT_MS, open_page, tid
from tests.integration.workflow.conftest import all_tasks, make_project


def colours(canvas: Locator) -> int:
    """Distinct colours on the canvas as shown (its pixels cannot be read from the page: the
    image comes from S3, another origin): a photo has thousands, a cleared canvas with a line
    of text a few dozen."""
    shot = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
    return len(shot.getcolors(maxcolors=1 << 24) or [])


def column(rows: Locator, name: str) -> list[str]:
    return rows.locator(tid(name)).all_inner_texts()


def test_past_runs_failed_task_and_export_download(
    stack: Container, gateway_url: str, signing_key: SigningKey, page: Page, tmp_path: Path
) -> None:
    # Given 6 WAITING photos, one of them corrupt, and 3 images of AI assistance left; a first
    # run takes what the limit allows, then an operator adds 10 and a second run takes the rest
    ref = make_project(stack, "org-review", waiting=6, corrupt=1, limit=3)
    api = InProcessApi(ref.org_id)
    harness.start_run(api, ref.project_id)
    harness.wait_for_run_end(api, ref.project_id)
    OrganizationAdmin(stack.orgs, stack.settings.plan_limits).add_remaining(ref.org_id, 10)
    harness.start_run(api, ref.project_id)
    harness.wait_for_run_end(api, ref.project_id)
    runs = call_api("GET", f"/projects/{ref.project_id}/runs", ref.org_id).body["runs"]
    # (the corrupt photo falls in whichever run its shard's turn puts it: runs take the shards
    # in turn, so both splits are right; the sums are not negotiable)
    newest, first = runs  # newest first
    assert (first["total"], first["skipped_quota"]) == (6, 3), runs
    assert first["labeled"] + first["failed"] == 3, runs
    assert (newest["total"], newest["skipped_quota"]) == (3, 0), runs
    assert newest["labeled"] + newest["failed"] == 3, runs
    assert (first["labeled"] + newest["labeled"], first["failed"] + newest["failed"]) == (5, 1)
    # When the page opens
    open_page(page, gateway_url, signing_key, ref.org_id)
    # Then the past runs are listed newest first with their figures
    rows = page.locator(tid("run-row"))
    expect(rows).to_have_count(2)
    expect(rows.locator(tid("run-row-status"))).to_have_text(["COMPLETED", "COMPLETED"])
    assert column(rows, "run-row-labeled") == [str(r["labeled"]) for r in runs]
    assert column(rows, "run-row-failed") == [str(r["failed"]) for r in runs]
    assert column(rows, "run-row-skipped") == ["0", "3"]
    assert column(rows, "run-row-total") == ["3", "6"]
    assert [r.get_attribute("data-run-id") for r in rows.all()] == [r["run_id"] for r in runs]

    # When the user opens the task with the most boxes
    tasks = all_tasks(ref)
    best = max(tasks, key=lambda t: t["label_count"])
    failed = next(t for t in tasks if t["prelabel_state"] == "FAILED")
    page.click(f'{tid("task-row")}[data-task-id="{best["task_id"]}"]')
    canvas = page.locator(tid("preview-canvas"))
    expect(canvas).to_have_attribute("data-boxes", str(best["label_count"]))
    expect(canvas).to_have_attribute("data-drawn", "true")
    photo_colours = colours(canvas)
    assert photo_colours > 5000, photo_colours
    # And then the failed one (its marker says so in the list)
    row = page.locator(f'{tid("task-row")}[data-task-id="{failed["task_id"]}"]')
    expect(row.locator(tid("prelabel-failed"))).to_be_visible()
    row.click()
    # Then its reason is shown, and the canvas holds nothing of the previous task: no image,
    # no boxes, no legend
    expect(page.locator(tid("preview-reason"))).to_have_text(
        f"Pre-labeling failed: {failed['prelabel_reason']}"
    )
    expect(canvas).to_have_attribute("data-task-id", failed["task_id"])
    expect(canvas).to_have_attribute("data-state", "failed")
    expect(canvas).to_have_attribute("data-drawn", "false")
    expect(canvas).to_have_attribute("data-boxes", "0")
    expect(page.locator(tid("preview-label"))).to_have_count(0)
    expect(page.locator(tid("preview-note"))).to_contain_text("could not be loaded")
    assert colours(canvas) < 1000
    save_shot(page, tmp_path, "15-failed-task")

    # When the user exports as YOLO and downloads the file the link offers
    page.select_option(tid("export-format"), "yolo")
    page.click(tid("export-button"))
    link = page.locator(tid("export-link"))
    expect(link).to_have_text(f"Download {ref.project_id}-yolo.zip", timeout=JOB_TIMEOUT_MS)
    boxes = sum(t["label_count"] for t in tasks)
    expect(page.locator(tid("export-result"))).to_contain_text(f"{boxes} annotations")
    save_shot(page, tmp_path, "16-export-ready")
    with page.expect_download() as download:
        link.click()
    # Then the browser saves the zip: Ultralytics' layout with one label file per labeled image
    saved = Path(download.value.path())
    names = zipfile.ZipFile(io.BytesIO(saved.read_bytes())).namelist()
    assert "data.yaml" in names and "prelabel_export.json" in names
    assert len([n for n in names if n.startswith("labels/")]) == 5, names

    # When the user exports as COCO
    page.select_option(tid("export-format"), "coco")
    page.click(tid("export-button"))
    expect(link).to_have_text(f"Download {ref.project_id}-coco.json", timeout=60_000)
    # Then the link is a COCO document with every image and every box
    doc = json.loads(requests.get(str(link.get_attribute("href")), timeout=30).content)
    assert len(doc["images"]) == 6 and len(doc["annotations"]) == boxes
