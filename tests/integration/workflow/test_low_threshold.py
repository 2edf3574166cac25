"""A threshold means what it says: a 0.05 mapping gets the real model's boxes down to 0.05,
through the real workflow (ASL in moto, Lambda handlers, DynamoDB Local, local YOLOX-Nano)."""

from __future__ import annotations

from prelabel.container import Container
from prelabel_local.http_events import call_api
from tests.integration.workflow.conftest import MAPPING, all_tasks, make_project, wait_for_end

# The floor the endpoint was asked for before issue 21, whatever the mapping said.
OLD_FLOOR = 0.25


def test_a_0_05_threshold_delivers_the_models_boxes_between_0_05_and_0_25(
    stack: Container,
) -> None:
    # Given 8 COCO photos and a mapping (vehicles, person, animals) with a default of 0.05
    ref = make_project(stack, "acme", waiting=8)
    low = {**MAPPING, "default_threshold": 0.05}
    assert call_api("PUT", f"/projects/{ref.project_id}/mapping", "acme", low).status == 200
    # When a run pre-labels them to the end
    started = call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {"confirm": True})
    assert started.status == 201, started.body
    final = wait_for_end(ref)
    assert (final["status"], final["labeled"]) == ("COMPLETED", 8)
    # Then boxes scored between 0.05 and 0.25 are among the pre-labels, and none under 0.05
    scores = []
    for task in all_tasks(ref):
        detail = call_api("GET", f"/projects/{ref.project_id}/tasks/{task['task_id']}", "acme")
        scores.extend(label["score"] for label in detail.body["labels"])
    between = [s for s in scores if 0.05 <= s < OLD_FLOOR]
    assert between, sorted(scores)  # before issue 21 the endpoint cut them off at 0.25
    assert min(scores) >= 0.05


def test_a_threshold_under_0_01_is_refused_by_the_api_naming_field_and_value(
    stack: Container,
) -> None:
    # Given a mapped project
    ref = make_project(stack, "acme", waiting=1)
    # When its mapping is replaced with a row at 0.005
    rows = [{"detector_class": "car", "entry_id": "vehicle", "min_confidence": 0.005}]
    reply = call_api("PUT", f"/projects/{ref.project_id}/mapping", "acme", {"rows": rows})
    # Then the answer is 400 naming the row's field and the value, and the mapping is unchanged
    assert reply.status == 400, reply.body
    assert reply.body["field"] == "rows[0].min_confidence"
    assert "0.005 is below 0.01" in reply.body["message"]
    saved = call_api("GET", f"/projects/{ref.project_id}/mapping", "acme").body
    assert saved["default_threshold"] == MAPPING["default_threshold"]
    assert len(saved["rows"]) == len(MAPPING["rows"])
