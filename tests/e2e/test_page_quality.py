"""The Quality panel in Chromium over the whole local stack: a reviewed-labels file made from
the project's own pre-labels (boxes under 0.5 deleted as wrong, one moved, a label the project
does not have) is uploaded straight to moto's S3 and imported, the report is computed, its
per-class figures and curve shown, and the suggested thresholds applied to the mapping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from prelabel.container import Container
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi
from prelabel_local.jwt_keys import SigningKey
from prelabel_local.quality_flow import quality
from tests.e2e.conftest import save_shot
from tests.e2e.page_steps import JOB_TIMEOUT_MS, RUN_TIMEOUT_MS, chip, open_page, tid
from tests.integration.workflow.conftest import make_project

pytestmark = pytest.mark.e2e

KEEP_FROM = 0.5
TARGET = 0.5


def reviewed_coco(api: InProcessApi, project_id: str) -> tuple[bytes, int]:
    """The project's pre-labels as people would leave them: boxes scored under 0.5 deleted,
    the first kept box moved by 2 px, a Tree drawn on the first image; and the boxes kept."""
    images, annotations, kept = [], [], 0
    cats = {"Tree": 99}
    for i, t in enumerate(harness.all_tasks(api, project_id), start=1):
        task = api.json("GET", f"/projects/{project_id}/tasks/{t['task_id']}")
        images.append(
            {
                "id": i,
                "file_name": task["image_key"],
                "width": task["image_width"],
                "height": task["image_height"],
            }
        )
        boxes = [
            (lbl["entry_name"], lbl["box"]) for lbl in task["labels"] if lbl["score"] >= KEEP_FROM
        ]
        if i == 1:
            boxes.append(("Tree", [5.0, 5.0, 25.0, 45.0]))
        for name, (x1, y1, x2, y2) in boxes:
            shift = 2.0 if not annotations else 0.0
            cat = cats.setdefault(name, len(cats))
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i,
                    "category_id": cat,
                    "bbox": [x1 + shift, y1, x2 - x1, y2 - y1],
                    "area": 1.0,
                    "iscrowd": 0,
                }
            )
            kept += name != "Tree"
    categories = [{"id": c, "name": n} for n, c in cats.items()]
    doc = {"images": images, "annotations": annotations, "categories": categories}
    return json.dumps(doc).encode(), kept


def _row(page: Page, entry: str) -> Any:
    return page.locator(f'{tid("quality-row")}[data-entry="{entry}"]')


def test_reviewed_labels_quality_report_and_calibrated_thresholds_on_the_page(
    stack: Container, gateway_url: str, signing_key: SigningKey, page: Page, tmp_path: Path
) -> None:
    # Given 8 photos pre-labeled by a run (the mapping's default threshold 0.3)
    ref = make_project(stack, "org-quality", waiting=8)
    api = InProcessApi(ref.org_id)
    harness.start_run(api, ref.project_id)
    assert harness.wait_for_run_end(api, ref.project_id, RUN_TIMEOUT_MS / 1000)["labeled"] == 8
    # And the reviewers' COCO file made from those pre-labels
    data, kept = reviewed_coco(api, ref.project_id)
    review = tmp_path / "reviewed.json"
    review.write_bytes(data)
    # When the user picks it on the page and imports it
    open_page(page, gateway_url, signing_key, ref.org_id)
    expect(page.locator(tid("quality-message"))).to_contain_text(
        "No quality report yet", timeout=JOB_TIMEOUT_MS
    )
    expect(page.locator(tid("quality-results"))).to_be_hidden()
    page.set_input_files(tid("reviewed-file"), str(review))
    page.click(tid("reviewed-button"))
    # Then the import report says every image matched, which boxes were kept, and the Tree
    summary = page.locator(tid("reviewed-summary"))
    expect(summary).to_contain_text("8 of 8 images matched", timeout=JOB_TIMEOUT_MS)
    expect(summary).to_contain_text(f"{kept} of {kept + 1} boxes kept")
    unknown = page.locator(tid("reviewed-unknown-label"))
    expect(unknown).to_have_attribute("data-label", "Tree")
    expect(
        page.locator(f'{tid("reviewed-finding")}[data-finding="unknown_label"]')
    ).to_contain_text("1 box")
    save_shot(page, tmp_path, "20-reviewed-labels-imported")

    # When the target precision is set to 0.5 and the quality report computed
    page.fill(tid("quality-target"), str(TARGET))
    page.click(tid("quality-compute"))
    expect(page.locator(tid("quality-computed"))).to_contain_text(
        "scope all: 8 tasks", timeout=JOB_TIMEOUT_MS
    )
    # Then each class shows the figures the API reports
    report = quality(api, ref.project_id, target=TARGET)
    shown = [c for c in report["classes"] if c["reviewed"] or c["predicted"]]
    assert shown, report
    for c in shown:
        row = _row(page, c["entry_id"])
        expect(row.locator(tid("q-tp"))).to_have_text(str(c["true_positives"]))
        expect(row.locator(tid("q-extra"))).to_have_text(str(c["extra"]))
        expect(row.locator(tid("q-misses"))).to_have_text(str(c["misses"]))
        expect(row.locator(tid("q-precision"))).to_contain_text(f"n {c['precision']['n']}")
    # And the curve has a line for each class with pre-labeled boxes
    lines = sum(1 for c in report["classes"] if any(p["precision"] is not None for p in c["curve"]))
    expect(page.locator(tid("pr-curve"))).to_have_attribute("data-lines", str(lines))
    assert lines >= 1
    # And kept boxes (scored 0.5 and up) were right and deleted ones wrong, so a class is
    # reachable at 0.5 with a threshold above the run's 0.3
    changed = [r for r in report["suggested_mapping"]["rows"] if r["min_confidence"] is not None]
    moved = [r for r in changed if r["min_confidence"] != 0.3]
    assert report["changed_rows"] == len(moved) > 0, report
    page.locator(tid("quality-results")).scroll_into_view_if_needed()
    save_shot(page, tmp_path, "21-quality-report")

    # When the user applies the suggested thresholds
    apply = page.locator(tid("quality-apply"))
    expect(apply).to_be_enabled()
    apply.click()
    # Then the mapping editor shows them, and the mapping is the suggested one
    expect(page.locator(tid("quality-applied"))).to_contain_text("Mapping updated")
    names = {
        e["id"]: e["name"]
        for e in api.json("GET", f"/projects/{ref.project_id}/mapping")["bbox_entries"]
    }
    for row in changed:
        min_input = chip(page, names[row["entry_id"]], row["detector_class"]).locator(
            tid("chip-min")
        )
        expect(min_input).to_have_value(str(row["min_confidence"]))
    mapping = api.json("GET", f"/projects/{ref.project_id}/mapping")
    assert [(r["detector_class"], r["min_confidence"]) for r in mapping["rows"]] == [
        (r["detector_class"], r["min_confidence"]) for r in report["suggested_mapping"]["rows"]
    ]
    expect(apply).to_be_disabled()
    save_shot(page, tmp_path, "22-thresholds-applied")
