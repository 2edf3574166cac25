"""The detector keeps failing for a batch: its tasks are left untouched, nothing charged."""

from __future__ import annotations

import threading

import pytest

from prelabel.adapters.sagemaker_detector import SageMakerDetector
from prelabel.container import Container
from prelabel.ports.detector import Detections, DetectorUnavailable
from prelabel.ports.labeling import BatchItem
from prelabel.services.labeling import BatchReport, BatchWorker
from prelabel_local.http_events import call_api
from tests.integration.workflow.conftest import (
    all_tasks,
    make_project,
    reconfigure,
    wait_for_end,
)


def test_a_batch_whose_detector_calls_keep_failing_is_left_untouched(
    stack: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 16 tasks in two batches, and a detector that always fails for batch 0
    ref = make_project(stack, "acme", waiting=16, limit=100)
    real_detect = SageMakerDetector.detect
    real_label = BatchWorker.label_batch
    local = threading.local()
    failed_calls: list[int] = []

    def label_batch(self: BatchWorker, item: BatchItem, attempt: int = 0) -> BatchReport:
        local.batch_no = item.batch_no
        return real_label(self, item, attempt)

    def flaky_detect(
        self: SageMakerDetector, images: list[bytes], *, score_floor: float
    ) -> Detections:
        if local.batch_no == 0:
            failed_calls.append(len(images))
            raise DetectorUnavailable("endpoint returned 500 three times")
        return real_detect(self, images, score_floor=score_floor)

    reconfigure(stack, max_concurrency=1)
    monkeypatch.setattr(BatchWorker, "label_batch", label_batch)
    monkeypatch.setattr(SageMakerDetector, "detect", flaky_detect)
    # When the run goes to its end
    assert call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {}).status == 201
    final = wait_for_end(ref)
    # Then batch 0 was retried by Step Functions until it gave up, the other was labeled;
    # the failed batch's tasks are untouched (still eligible) and cost nothing
    assert len(failed_calls) == 6  # the first attempt and the ASL's five retries
    assert final["status"] == "COMPLETED"
    assert (final["labeled"], final["left"]) == (8, 8)
    assert "not processed" in final["message"]
    tasks = all_tasks(ref)
    assert sum(1 for t in tasks if t["prelabel_state"] == "DONE") == 8
    assert sum(1 for t in tasks if t["prelabel_state"] is None) == 8
    assert 100 - stack.ledger.remaining("acme") == 8
    view = call_api("GET", f"/projects/{ref.project_id}/assistant", "acme").body
    assert view["eligible_tasks"] == 8
