"""Acceptance: 60 WAITING (2 corrupt), 10 BACKLOG, 3 already pre-labeled, a limit of 50."""

from __future__ import annotations

from prelabel.container import Container
from prelabel.domain.entities import ProjectRef
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi, call_api
from tests.integration.plant import plant_prelabel
from tests.integration.workflow.conftest import all_tasks, make_project, wait_for_end


def _mark_three_prelabeled(ref: ProjectRef, bucket: str) -> set[str]:
    """Three more WAITING tasks that an earlier run pre-labeled already."""
    api = InProcessApi(ref.org_id)
    harness.put_objects(bucket, [(f"{ref.org_id}/done/{i}.jpg", b"old") for i in range(3)])
    ds = harness.connect_dataset(api, ref.project_id, bucket, f"{ref.org_id}/done/")
    ids = {
        t["task_id"] for t in harness.all_tasks(api, ref.project_id, dataset_id=ds["dataset_id"])
    }
    assert harness.move_tasks(api, ref.project_id, sorted(ids)) == 3
    for task_id in ids:
        plant_prelabel(ref, task_id)
    return ids


def test_run_labels_exactly_the_limit_and_fails_corrupt_images(stack: Container) -> None:
    # Given 60 WAITING tasks (2 of them corrupt files), 10 BACKLOG, 3 pre-labeled, limit 50
    ref = make_project(stack, "acme", waiting=60, backlog=10, corrupt=2, limit=50)
    old = _mark_three_prelabeled(ref, stack.settings.data_bucket)
    # When pre-labeling starts (confirming "only 50 of 60") and runs to its end
    ask = call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {})
    assert ask.body["confirmation_required"] is True
    assert ask.body["message"].startswith("only 50 of 60 images will be pre-labeled")
    started = call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {"confirm": True})
    assert started.status == 201, started.body
    final = wait_for_end(ref)
    tasks = {t["task_id"]: t for t in all_tasks(ref)}
    done = [t for t in tasks.values() if t["prelabel_state"] == "DONE" and t["task_id"] not in old]
    failed = [t for t in tasks.values() if t["prelabel_state"] == "FAILED"]
    untouched_waiting = [
        t for t in tasks.values() if t["state"] == "WAITING" and not t["prelabel_state"]
    ]
    backlog = [t for t in tasks.values() if t["state"] == "BACKLOG"]
    # Then exactly 50 are DONE, the 2 corrupt FAILED with reasons, 8 untouched and skipped
    assert len(done) == 50
    assert len(failed) == 2
    assert all("corrupt" in t["image_key"] for t in failed)
    assert all(t["prelabel_reason"] for t in failed)
    assert len(untouched_waiting) == 8
    assert final["status"] == "COMPLETED"
    assert (final["total"], final["labeled"], final["failed"], final["skipped_quota"]) == (
        60,
        50,
        2,
        8,
    )
    assert "limit ran out" in (final["message"] or "")
    # And BACKLOG and already pre-labeled tasks are untouched, the limit is at 0
    assert len(backlog) == 10 and all(not t["prelabel_state"] for t in backlog)
    assert all(tasks[i]["prelabel_state"] == "DONE" and tasks[i]["label_count"] == 0 for i in old)
    assert call_api("GET", "/limit", "acme").body["remaining"] == 0
    # And each DONE task carries labels mapped through the mapping, with score, model, source
    labelled = 0
    for t in done:
        detail = call_api("GET", f"/projects/{ref.project_id}/tasks/{t['task_id']}", "acme").body
        assert detail["image_width"] and detail["image_height"]
        for label in detail["labels"]:
            labelled += 1
            assert label["source"] == "AI_PRE_LABEL"
            assert label["entry_name"] in {"Vehicle", "Person", "Animal"}
            assert label["score"] >= 0.3
            assert label["model_name"] and label["model_version"]
            x1, y1, x2, y2 = label["box"]
            assert 0 <= x1 < x2 <= detail["image_width"] and 0 <= y1 < y2 <= detail["image_height"]
    assert labelled > 50  # COCO street scenes: people and vehicles in most photos
    # And the project's counters agree with the tasks
    counts = call_api("GET", f"/projects/{ref.project_id}/assistant", "acme").body
    assert counts["eligible_tasks"] == 8
