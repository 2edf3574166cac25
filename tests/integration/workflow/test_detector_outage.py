"""The detector keeps failing for a batch: its tasks are released untouched, nothing charged."""

from __future__ import annotations

import threading

import pytest

from prelabel.adapters.dynamodb.models import TaskModel
from prelabel.adapters.sagemaker_detector import SageMakerDetector
from prelabel.ports.workflow import Detections, DetectorUnavailable
from prelabel.wiring import Ports
from prelabel_local.http_events import call_api
from tests.integration.workflow.conftest import all_tasks, make_project, wait_for_end


def test_a_batch_whose_detector_calls_keep_failing_is_left_untouched(
    stack: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 16 tasks in two batches, and a detector that always fails for the batch holding
    # the first task
    ref = make_project(stack, "acme", waiting=16, limit=100)
    first_task = sorted(t["task_id"] for t in all_tasks(ref))[0]
    real_detect = SageMakerDetector.detect
    failed_calls = []
    lock = threading.Lock()

    def flaky_detect(self: SageMakerDetector, images: list[bytes]) -> Detections:
        claimed = {i.task_id for i in TaskModel.query(ref.key) if i.claim_run_id}
        # Batches run one at a time, so the doomed batch is the one holding the first task.
        if first_task in claimed:
            with lock:
                failed_calls.append(len(images))
            raise DetectorUnavailable("endpoint returned 500 three times")
        return real_detect(self, images)

    monkeypatch.setenv("MAX_CONCURRENCY", "1")
    monkeypatch.setattr(SageMakerDetector, "detect", flaky_detect)
    # When the run goes to its end
    assert call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {}).status == 201
    final = wait_for_end(ref)
    # Then one batch was retried by Step Functions until it gave up, the other was labeled;
    # the failed batch's tasks are untouched (still eligible, unclaimed) and cost nothing
    assert len(failed_calls) == 4  # the first attempt and the ASL's three retries
    assert final["status"] == "COMPLETED"
    assert (final["labeled"], final["left"]) == (8, 8)
    assert "not processed" in final["message"]
    tasks = all_tasks(ref)
    assert sum(1 for t in tasks if t["prelabel_state"] == "DONE") == 8
    assert sum(1 for t in tasks if t["prelabel_state"] is None) == 8
    assert 100 - stack.ledger.remaining("acme") == 8
    assert not [i.task_id for i in TaskModel.query(ref.key) if i.claim_run_id]
    view = call_api("GET", f"/projects/{ref.project_id}/assistant", "acme").body
    assert view["eligible_tasks"] == 8
