"""The page's run edges in Chromium over the whole local stack: a run shows STOPPING from the
stop's first write until its in-flight batch has landed, then STOPPED with figures that no
longer move; a plan that does not allow pre-labeling shows how an operator changes it, both
when the page loads and when Start is refused after a downgrade."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from prelabel.container import Container
from prelabel.domain.entities import Plan
from prelabel_local import harness
from prelabel_local.http_events import call_api
from prelabel_local.jwt_keys import SigningKey
from tests.e2e.conftest import save_shot
from tests.e2e.held_runs import current_run, expect_stopped, gated_project
from tests.e2e.page_steps import RUN_TIMEOUT_MS, open_page, remaining, tid
from tests.integration.workflow.conftest import all_tasks, make_project


def test_stopping_shows_until_the_batch_in_flight_lands_then_stopped_figures_hold(
    stack: Container, gateway_url: str, signing_key: SigningKey, page: Page, tmp_path: Path
) -> None:
    # Given 24 WAITING photos, batches of 8 one at a time, and a detector that lets the first
    # batch through and holds the second
    with gated_project(stack, page, gateway_url, signing_key, "org-stopping", waiting=24) as g:
        page.click(tid("start-button"))
        expect(page.locator(tid("progress-counts"))).to_contain_text(
            "8 labeled · 0 failed · 0 skipped (limit) · 16 left of 24", timeout=RUN_TIMEOUT_MS
        )
        harness.wait_until(lambda: g.gated.entered >= 2, what="the second batch in the detector")
        run_id = current_run(g.ref)["run_id"]
        # When the stop's first write lands (a stop from the console or another tab) while the
        # second batch is still in the detector
        assert g.stack.runs.request_stop(g.ref, run_id)
        # Then the page shows STOPPING, says nothing more is charged, and offers neither
        # Start nor Stop
        expect(page.locator(tid("run-status"))).to_have_text("STOPPING")
        expect(page.locator(tid("run-message"))).to_contain_text("nothing more is charged")
        expect(page.locator(tid("stop-button"))).to_be_disabled()
        expect(page.locator(tid("start-button"))).to_be_disabled()
        expect(page.locator(tid("run-row")).first.locator(tid("run-row-status"))).to_have_text(
            "STOPPING"
        )
        save_shot(page, tmp_path, "17-stopping")
        # When the batch in flight is let through
        g.gated.gate.set()
        # Then the run ends STOPPED with the first batch only
        expect(page.locator(tid("run-status"))).to_have_text("STOPPED", timeout=RUN_TIMEOUT_MS)
    expect_stopped(page, g.ref, labeled=8, left=16)
    # And the batch that landed after the stop was neither charged nor labeled
    assert remaining(g.ref.org_id) == g.before - 8
    assert sum(t["prelabel_state"] == "DONE" for t in all_tasks(g.ref)) == 8
    expect(page.locator(tid("limit-remaining"))).to_contain_text(f"{g.before - 8:,} of")
    expect(page.locator(tid("eligible-count"))).to_have_text("16")
    expect(page.locator(f'{tid("task-row")}[data-prelabeled="true"]')).to_have_count(8)
    expect(page.locator(tid("start-button"))).to_be_enabled()


def test_a_plan_without_pre_labeling_shows_how_an_operator_changes_it(
    stack: Container, gateway_url: str, signing_key: SigningKey, page: Page, tmp_path: Path
) -> None:
    # Given a mapped project with 3 WAITING photos, its organization on TEAM_PRO
    ref = make_project(stack, "org-plan", waiting=3)
    admin = stack.organization_admin
    open_page(page, gateway_url, signing_key, ref.org_id)
    expect(page.locator(tid("start-button"))).to_be_enabled()
    expect(page.locator(tid("upgrade-hint"))).to_be_hidden()
    # When an operator moves the organization to TEAM and the user, on the open page, starts
    admin.set_plan(ref.org_id, Plan.TEAM)
    page.click(tid("start-button"))
    # Then the refusal names the plan and the page says how the plan is changed
    hint = page.locator(tid("upgrade-hint"))
    expect(hint).to_be_visible()
    expect(page.locator(tid("upgrade-title"))).to_have_text(
        "Pre-labeling needs the TEAM_PRO plan; this organization is on TEAM."
    )
    expect(hint).to_contain_text("prelabel-admin org set-plan org-plan TEAM_PRO")
    expect(page.locator(tid("start-button"))).to_be_disabled()
    save_shot(page, tmp_path, "18-plan-refused")
    # And nothing started or was charged
    assert call_api("GET", f"/projects/{ref.project_id}/runs/current", ref.org_id).status == 404
    assert all(t["prelabel_state"] != "DONE" for t in all_tasks(ref))
    # When the page is opened again, still on TEAM: the same hint before anything is pressed
    page.goto("about:blank")
    open_page(page, gateway_url, signing_key, ref.org_id)
    expect(hint).to_be_visible()
    expect(page.locator(tid("start-button"))).to_be_disabled()
    # When the operator moves it back to TEAM_PRO and the page is opened again
    admin.set_plan(ref.org_id, Plan.TEAM_PRO)
    page.goto("about:blank")
    open_page(page, gateway_url, signing_key, ref.org_id)
    # Then Start is offered and the hint is gone
    expect(page.locator(tid("start-button"))).to_be_enabled()
    expect(hint).to_be_hidden()
