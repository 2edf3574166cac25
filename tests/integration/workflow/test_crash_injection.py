"""A worker that dies: before or after its commit (nothing double-labeled, double-charged or
charged without labels), or while decoding a poison image (that image ends FAILED, the rest of
its batch is pre-labeled). Step Functions retries the batch (the ASL's Retry on TaskFailed)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from prelabel.adapters.dynamodb.batches import DynamoBatchStore
from prelabel.adapters.dynamodb.models import BatchReceiptModel
from prelabel.container import Container
from prelabel.ports.labeling import BatchCommit, CommitResult
from prelabel_local import harness
from prelabel_local.http_events import call_api
from prelabel_local.lambdas import LambdaRunner
from tests.integration.workflow.conftest import all_tasks, make_project, photos, wait_for_end
from tests.integration.workflow.poison_worker import POISON

TASKS = 24  # three batches of 8
LIMIT = 500


class WorkerDied(RuntimeError):
    """Stands for the Lambda process dying: the invocation fails and is retried."""


@pytest.mark.parametrize("when", ["after_inference_before_commit", "after_commit"])
def test_a_crashed_worker_is_retried_without_double_charge(
    stack: Container, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    # Given a run of three batches where the first commit attempt of every batch crashes
    real_commit = DynamoBatchStore.commit
    crashed: set[int] = set()
    lock = threading.Lock()

    def crashing_commit(self: DynamoBatchStore, batch: BatchCommit) -> CommitResult:
        with lock:
            first = batch.item.batch_no not in crashed
            crashed.add(batch.item.batch_no)
        if first and when == "after_inference_before_commit":
            raise WorkerDied(f"batch {batch.item.batch_no} died before its commit")
        result = real_commit(self, batch)
        if first and when == "after_commit":
            raise WorkerDied(f"batch {batch.item.batch_no} died after its commit")
        return result

    monkeypatch.setattr(DynamoBatchStore, "commit", crashing_commit)
    ref = make_project(stack, "acme", waiting=TASKS, limit=LIMIT)
    # When the run goes to its end through the retries
    assert call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {}).status == 201
    final = wait_for_end(ref)
    # Then every batch crashed once, and still every task is DONE once and charged once
    assert crashed == {0, 1, 2}
    assert final["status"] == "COMPLETED", final
    assert (final["total"], final["labeled"], final["failed"], final["skipped_quota"]) == (
        TASKS,
        TASKS,
        0,
        0,
    )
    done = [t for t in all_tasks(ref) if t["prelabel_state"] == "DONE"]
    assert len(done) == TASKS
    assert LIMIT - stack.ledger.remaining("acme") == TASKS
    # And one receipt per batch, the run's counter equal to the DONE tasks
    receipts = list(BatchReceiptModel.query(f"batch#{final['run_id']}"))
    assert len(receipts) == 3
    assert sum(int(r.labeled) for r in receipts) == final["labeled"] == TASKS


@pytest.fixture
def dying_workers(lambda_runner: LambdaRunner) -> Iterator[None]:
    """LabelBatch runs in a process of its own per invocation, one that dies on POISON."""
    lambda_runner.isolate("LabelBatchFunction", "tests.integration.workflow.poison_worker:handler")
    yield
    lambda_runner.isolate("LabelBatchFunction", None)


def test_an_image_that_kills_the_worker_fails_alone(stack: Container, dying_workers: None) -> None:
    # Given 16 WAITING tasks in two batches, the first task's file one that kills the worker
    ref = make_project(stack, "acme", waiting=15, limit=LIMIT)
    bucket = stack.settings.data_bucket
    harness.put_objects(bucket, [("acme/p/a_poison.jpg", POISON + photos()[0])])
    api_ds = harness.connect_dataset(_api(), ref.project_id, bucket, "acme/p/")
    poison_id = harness.all_tasks(_api(), ref.project_id, dataset_id=api_ds["dataset_id"])[0][
        "task_id"
    ]
    assert harness.move_tasks(_api(), ref.project_id, [poison_id]) == 1
    # When the run goes to its end, its batch retried by Step Functions after each death
    assert call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {}).status == 201
    final = wait_for_end(ref)
    # Then the poison image is FAILED with the reason, and all 15 others are pre-labeled
    assert final["status"] == "COMPLETED", final
    assert (final["total"], final["labeled"], final["failed"]) == (16, 15, 1)
    poison = call_api("GET", f"/projects/{ref.project_id}/tasks/{poison_id}", "acme").body
    assert poison["prelabel_state"] == "FAILED"
    assert "the worker stopped 2 times while decoding this image" in poison["prelabel_reason"]
    # And only the 15 were charged
    assert LIMIT - stack.ledger.remaining("acme") == 15


def _api() -> harness.ApiClient:
    from prelabel_local.http_events import InProcessApi

    return InProcessApi("acme")
