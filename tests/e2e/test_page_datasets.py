"""The page's data steps in Chromium over the whole local stack: connect a folder (the import's
progress while its job runs, then its report: counts per skip reason, example keys), connect a
manifest, move selected tasks BACKLOG <-> WAITING at once and all of them as a job with its
progress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from prelabel.container import Container
from prelabel_local import harness
from prelabel_local.http_events import call_api
from prelabel_local.jwt_keys import SigningKey
from prelabel_local.lambdas import LambdaRunner
from tests.e2e.conftest import save_shot
from tests.e2e.page_steps import JOB_TIMEOUT_MS, Held, bare_project, open_page, tid
from tests.integration.workflow.conftest import photos


def counts(org: str, project_id: str) -> dict[str, int]:
    return dict(call_api("GET", f"/projects/{project_id}/assistant", org).body["counts"])


def test_connect_a_folder_and_a_manifest_then_move_selected_and_all(
    stack: Container,
    gateway_url: str,
    signing_key: SigningKey,
    page: Page,
    tmp_path: Path,
    lambda_runner: LambdaRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a mapped project without data, and under the organization's folder 5 photos, two
    # files that are no images and an empty .jpg
    ref = bare_project(stack, "org-data")
    org, pid, bucket = ref.org_id, ref.project_id, str(stack.settings.data_bucket)
    pics = photos()
    harness.put_objects(
        bucket,
        [(f"{org}/street/img_{i}.jpg", pics[i]) for i in range(5)]
        + [
            (f"{org}/street/notes.txt", b"not an image"),
            (f"{org}/street/labels.csv", b"a,b"),
            (f"{org}/street/empty.jpg", b""),
        ],
    )
    # And the jobs' steps held until the test has seen the page mid-way
    held = Held(lambda_runner.handlers["JobStepFunction"])
    monkeypatch.setitem(lambda_runner.handlers, "JobStepFunction", held)
    open_page(page, gateway_url, signing_key, org)
    expect(page.locator(tid("datasets-empty"))).to_be_visible()
    expect(page.locator(tid("start-reason"))).to_contain_text("this project has no task")
    try:
        # When the user connects the folder by bucket and prefix
        page.fill(tid("connect-bucket"), bucket)
        page.fill(tid("connect-prefix"), f"{org}/street/")
        page.click(tid("connect-button"))
        # Then the dataset shows IMPORTING with its progress while the import job runs
        dataset = page.locator(tid("dataset"))
        expect(dataset.locator(tid("dataset-status"))).to_have_text("IMPORTING")
        expect(dataset.locator(tid("dataset-progress"))).to_contain_text("Importing…")
        harness.wait_until(lambda: held.entered >= 1, what="the import's first step")
        save_shot(page, tmp_path, "10-importing")
        held.open()
        # And once the job is done: READY, 5 tasks, and the report per skip reason
        expect(dataset.locator(tid("dataset-status"))).to_have_text("READY", timeout=JOB_TIMEOUT_MS)
    finally:
        held.open()
    expect(dataset.locator(tid("dataset-tasks"))).to_have_text("5 tasks")
    expect(dataset.locator(tid("report-summary"))).to_have_text(
        "Import report: 8 objects looked at · 5 images became tasks · 3 skipped"
    )
    unsupported = dataset.locator(f'{tid("report-reason")}[data-reason="unsupported_type"]')
    expect(unsupported.locator(tid("report-count"))).to_have_text("2")
    expect(unsupported).to_contain_text("not an image type")
    expect(unsupported.locator(tid("report-example"))).to_have_text(
        [f"{org}/street/labels.csv", f"{org}/street/notes.txt"]
    )
    empty = dataset.locator(f'{tid("report-reason")}[data-reason="empty"]')
    expect(empty.locator(tid("report-count"))).to_have_text("1")
    expect(empty.locator(tid("report-example"))).to_have_text([f"{org}/street/empty.jpg"])
    # And its tasks are listed in BACKLOG; start offers to move them, nothing is waiting yet
    rows = page.locator(tid("task-row"))
    expect(rows).to_have_count(5)
    expect(page.locator(f'{tid("task-row")}[data-state="BACKLOG"]')).to_have_count(5)
    expect(page.locator(tid("eligible-count"))).to_have_text("0")
    expect(page.locator(tid("start-reason"))).to_contain_text("5 tasks wait in BACKLOG")
    expect(page.locator(tid("reason-move-all"))).to_be_visible()
    save_shot(page, tmp_path, "11-imported-report")

    # When the user ticks two tasks and moves the selection to WAITING
    picked = [rows.nth(0).get_attribute("data-task-id"), rows.nth(3).get_attribute("data-task-id")]
    rows.nth(0).locator(tid("task-check")).check()
    rows.nth(3).locator(tid("task-check")).check()
    expect(page.locator(tid("move-selected-to-waiting"))).to_have_text("→ WAITING (2)")
    page.click(tid("move-selected-to-waiting"))
    # Then exactly those two are WAITING (at once, no job), and the counters say so
    expect(page.locator(tid("move-status"))).to_have_text("Moved 2 tasks from BACKLOG to WAITING.")
    expect(page.locator(f'{tid("task-row")}[data-state="WAITING"]')).to_have_count(2)
    waiting = {
        r.get_attribute("data-task-id")
        for r in page.locator(f'{tid("task-row")}[data-state="WAITING"]').all()
    }
    assert waiting == set(picked)
    expect(page.locator(tid("eligible-count"))).to_have_text("2")
    assert counts(org, pid)["waiting"] == 2
    save_shot(page, tmp_path, "12-moved-selected")

    # When the user moves all BACKLOG tasks to WAITING (a job), its step held a moment
    held.close()
    try:
        page.click(tid("move-all-to-waiting"))
        # Then the page shows the job's progress until it is done
        expect(page.locator(tid("move-progress"))).to_be_visible()
        expect(page.locator(tid("move-status"))).to_contain_text(
            "Moving all BACKLOG tasks to WAITING… 0 of 3 tasks"
        )
        harness.wait_until(lambda: held.entered >= 2, what="the move's first step")
        save_shot(page, tmp_path, "13-moving-all")
        held.open()
        expect(page.locator(tid("move-status"))).to_have_text(
            "Moved 3 tasks from BACKLOG to WAITING.", timeout=JOB_TIMEOUT_MS
        )
    finally:
        held.open()
    # And every task is WAITING, ready for a run
    expect(page.locator(f'{tid("task-row")}[data-state="WAITING"]')).to_have_count(5)
    expect(page.locator(tid("eligible-count"))).to_have_text("5")
    expect(page.locator(tid("start-button"))).to_be_enabled()
    assert counts(org, pid)["backlog"] == 0

    # When the user ticks one task and moves it back to BACKLOG
    rows.nth(1).locator(tid("task-check")).check()
    page.click(tid("move-selected-to-backlog"))
    # Then it is in BACKLOG again, and no longer counted as waiting
    expect(page.locator(tid("move-status"))).to_have_text("Moved 1 task from WAITING to BACKLOG.")
    expect(page.locator(tid("eligible-count"))).to_have_text("4")
    expect(page.locator(f'{tid("task-row")}[data-state="BACKLOG"]')).to_have_count(1)

    # When the user connects a Ground Truth manifest naming two of the photos and one image
    # outside the organization's folder
    lines = [{"source-ref": f"s3://{bucket}/{org}/street/img_{i}.jpg"} for i in (1, 2)]
    lines.append({"source-ref": f"s3://{bucket}/someone-else/x.jpg"})
    key = f"{org}/manifests/picked.manifest"
    harness.put_objects(bucket, [(key, "\n".join(json.dumps(x) for x in lines).encode())])
    page.check(tid("connect-kind-manifest"))
    expect(page.locator(tid("connect-prefix"))).to_be_hidden()
    page.fill(tid("connect-manifest-key"), key)
    page.select_option(tid("connect-manifest-format"), "ground_truth")
    page.click(tid("connect-button"))
    # Then a second dataset is READY with 2 tasks, and its report names the skipped key
    second = page.locator(tid("dataset")).nth(1)
    expect(second.locator(tid("dataset-status"))).to_have_text("READY", timeout=JOB_TIMEOUT_MS)
    expect(second).to_contain_text(f"s3://{bucket}/{key} (ground_truth)")
    expect(second.locator(tid("dataset-tasks"))).to_have_text("2 tasks")
    outside = second.locator(f'{tid("report-reason")}[data-reason="outside_locations"]')
    expect(outside.locator(tid("report-count"))).to_have_text("1")
    expect(outside.locator(tid("report-example"))).to_have_text(["someone-else/x.jpg"])
    expect(page.locator(tid("move-counts"))).to_contain_text("BACKLOG 3 · WAITING 4")
    save_shot(page, tmp_path, "14-manifest-connected")


def test_a_refused_connect_shows_the_apis_message(
    stack: Container, gateway_url: str, signing_key: SigningKey, page: Page
) -> None:
    # Given a project of org-refused
    ref = bare_project(stack, "org-refused")
    open_page(page, gateway_url, signing_key, ref.org_id)
    # When the user connects another organization's folder
    page.fill(tid("connect-bucket"), str(stack.settings.data_bucket))
    page.fill(tid("connect-prefix"), "someone-else/photos/")
    page.click(tid("connect-button"))
    # Then the API's refusal is shown as it words it, and no dataset appears
    expect(page.locator(tid("connect-error"))).to_contain_text(
        "is not one of this organization's data locations"
    )
    expect(page.locator(tid("dataset"))).to_have_count(0)
    expect(page.locator(tid("datasets-empty"))).to_be_visible()
