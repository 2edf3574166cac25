"""A worker that dies before or after its commit: nothing double-labeled, double-charged, or
charged without labels. Step Functions retries the batch (the ASL's Retry on TaskFailed)."""

from __future__ import annotations

import threading

import pytest

from prelabel.adapters.dynamodb.models import BatchReceiptModel, RunModel, TaskModel
from prelabel.adapters.dynamodb.workflow import DynamoClaimStore
from prelabel.ports.workflow import BatchCommit, CommitResult
from prelabel.wiring import Ports
from prelabel_local.http_events import call_api
from tests.integration.workflow.conftest import all_tasks, make_project, wait_for_end

TASKS = 24  # three batches of 8
LIMIT = 500


class WorkerDied(RuntimeError):
    """Stands for the Lambda process dying: the invocation fails and is retried."""


@pytest.mark.parametrize("when", ["after_inference_before_commit", "after_commit"])
def test_a_crashed_worker_is_retried_without_double_charge(
    stack: Ports, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    # Given a run of three batches where the first commit attempt of every batch crashes
    real_commit = DynamoClaimStore.commit
    crashed: set[int] = set()
    lock = threading.Lock()

    def crashing_commit(self: DynamoClaimStore, batch: BatchCommit) -> CommitResult:
        with lock:
            first = batch.item.batch_no not in crashed
            crashed.add(batch.item.batch_no)
        if first and when == "after_inference_before_commit":
            raise WorkerDied(f"batch {batch.item.batch_no} died before its commit")
        result = real_commit(self, batch)
        if first and when == "after_commit":
            raise WorkerDied(f"batch {batch.item.batch_no} died after its commit")
        return result

    monkeypatch.setattr(DynamoClaimStore, "commit", crashing_commit)
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
    # And one receipt per batch, the run's counter equal to the DONE tasks, no claim left
    run = next(iter(RunModel.query(ref.key)))
    receipts = list(BatchReceiptModel.query(f"batch#{run.run_id}"))
    assert len(receipts) == 3
    assert sum(int(r.labeled) for r in receipts) == int(run.labeled) == TASKS
    assert not [i.task_id for i in TaskModel.query(ref.key) if i.claim_run_id]
