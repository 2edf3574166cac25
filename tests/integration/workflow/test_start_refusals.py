"""Start is refused with a clear reason, and a second start answers with the active run."""

from __future__ import annotations

import pytest

from prelabel.adapters.dynamodb.models import OrganizationModel
from prelabel.container import Container
from prelabel.domain.plans import Plan
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi, call_api
from tests.integration.workflow.conftest import make_project, wait_for_end


@pytest.mark.parametrize(
    ("setup", "status", "words"),
    [
        ("team_plan", 403, "needs the TEAM_PRO plan; this organization is on TEAM"),
        ("no_mapping", 403, "the label mapping has no rows"),
        ("zero_limit", 403, "used up (0 remaining)"),
        ("no_waiting", 409, "no WAITING task is left"),
    ],
)
def test_start_is_refused_with_its_reason(
    stack: Container, setup: str, status: int, words: str
) -> None:
    # Given a project that misses one condition of start
    ref = make_project(stack, "acme", waiting=3)
    if setup == "team_plan":
        OrganizationModel("acme").update(actions=[OrganizationModel.plan.set(Plan.TEAM.value)])
    elif setup == "no_mapping":
        call_api("PUT", f"/projects/{ref.project_id}/mapping", "acme", {"rows": []})
    elif setup == "zero_limit":
        OrganizationModel("acme").update(actions=[OrganizationModel.remaining.set(0)])
    else:
        harness.move_tasks(InProcessApi("acme"), ref.project_id, source="WAITING", target="BACKLOG")
    # When start is asked for, even confirmed
    reply = call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {"confirm": True})
    # Then it is refused with the reason, no run exists, and nothing was charged
    assert reply.status == status, reply.body
    assert words in reply.message
    assert call_api("GET", f"/projects/{ref.project_id}/runs/current", "acme").status == 404
    view = call_api("GET", f"/projects/{ref.project_id}/assistant", "acme").body
    assert view["can_start"] is (setup == "no_waiting")


def test_second_start_answers_with_the_active_run(stack: Container) -> None:
    # Given a running run
    ref = make_project(stack, "acme", waiting=16)
    first = call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {})
    assert first.status == 201, first.body
    # When start is asked for again while it runs
    second = call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {})
    # Then the answer is the active run, not a new one
    assert second.status == 200
    if second.body["already_active"]:
        assert second.body["run"]["run_id"] == first.body["run"]["run_id"]
    final = wait_for_end(ref)
    assert final["run_id"] == first.body["run"]["run_id"]
    assert final["labeled"] == 16
