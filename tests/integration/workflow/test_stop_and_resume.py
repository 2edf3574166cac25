"""Stop mid-run (API and console): final at once, whatever was in flight; then edit the mapping,
start again, and every task is pre-labeled exactly once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

import boto3
import pytest

from prelabel.container import Container
from prelabel.domain.entities import ProjectRef
from prelabel.ports.detector import Detections, Detector
from prelabel.ports.labeling import BatchItem
from prelabel.services.labeling import BatchReport, BatchWorker
from prelabel_local import harness
from prelabel_local.http_events import call_api
from prelabel_local.workflow_resources import stop_from_console
from tests.integration.workflow.conftest import (
    MAPPING,
    all_tasks,
    make_project,
    reconfigure,
    wait_for_end,
)

TASKS = 40  # five batches of 8
LIMIT = 1_000
QUIET_S = 10.0


class GatedDetector(Detector):
    """The real detector, but calls after the first `open_calls` wait until the gate opens:
    batches are surely in flight when the test stops the run."""

    def __init__(self, real: Detector, open_calls: int) -> None:
        self._real = real
        self._open_calls = open_calls
        self.entered = 0
        self.gate = threading.Event()
        self._lock = threading.Lock()

    def detect(
        self, images: Sequence[bytes], *, score_floor: float, target_model: str | None = None
    ) -> Detections:
        with self._lock:
            n = self.entered
            self.entered += 1
        if n >= self._open_calls:
            self.gate.wait(timeout=120)
        return self._real.detect(images, score_floor=score_floor, target_model=target_model)


class Batches:
    """Counts worker invocations that started and that returned, with their outcomes."""

    def __init__(self) -> None:
        self.started = 0
        self.outcomes: list[str] = []
        self._lock = threading.Lock()

    def wrap(self, real: Any) -> Any:
        def label_batch(worker: BatchWorker, item: BatchItem, attempt: int = 0) -> BatchReport:
            with self._lock:
                self.started += 1
            try:
                report: BatchReport = real(worker, item, attempt)
                with self._lock:
                    self.outcomes.append(report.outcome)
                return report
            except Exception:
                with self._lock:
                    self.outcomes.append("error")
                raise

        return label_batch

    def all_returned(self) -> bool:
        with self._lock:
            return self.started == len(self.outcomes)


def _figures(stack: Container, ref: ProjectRef) -> tuple[Any, ...]:
    run = call_api("GET", f"/projects/{ref.project_id}/runs/current", ref.org_id).body
    done = sum(1 for t in all_tasks(ref) if t["prelabel_state"] == "DONE")
    return (
        run["status"],
        run["labeled"],
        run["failed"],
        run["skipped_quota"],
        run["left"],
        done,
        stack.ledger.remaining(ref.org_id),
    )


@pytest.mark.parametrize("how", ["api", "console"])
def test_stop_is_final_then_resume_with_an_edited_mapping(
    stack: Container, state_machine_arn: str, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    # Given 40 WAITING tasks, two batches at a time, and a detector that lets two batches
    # through and holds the next ones until the test opens the gate
    stack = reconfigure(stack, max_concurrency=2)
    gated = GatedDetector(stack.detector, open_calls=2)
    stack.override(detector=gated)
    batches = Batches()
    monkeypatch.setattr(BatchWorker, "label_batch", batches.wrap(BatchWorker.label_batch))
    ref = make_project(stack, "acme", waiting=TASKS, limit=LIMIT)
    started = call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {})
    assert started.status == 201, started.body
    harness.wait_until(lambda: gated.entered >= 4, what="two batches held at the detector")
    harness.wait_until(
        lambda: (
            call_api("GET", f"/projects/{ref.project_id}/runs/current", "acme").body["labeled"]
            >= 16
        ),
        what="the first two batches committed",
    )
    # When the run is stopped, through the API or from the console (StopExecution)
    stop_time = time.monotonic()
    if how == "api":
        stopped = call_api("POST", f"/projects/{ref.project_id}/runs/stop", "acme").body
    else:
        finished = stop_from_console(
            boto3.client("stepfunctions"), boto3.client("lambda"), _execution_arn(ref)
        )
        assert finished["status"] == "STOPPED", finished
        stopped = call_api("GET", f"/projects/{ref.project_id}/runs/current", "acme").body
    # Then the answer is STOPPED with the two batches' work and no more
    assert stopped["status"] == "STOPPED", stopped
    assert (stopped["labeled"], stopped["left"]) == (16, TASKS - 16)
    assert stopped["message"].startswith("stopped: 16 pre-labeled")
    at_stop = _figures(stack, ref)
    # When the held batches are let through and finish
    gated.gate.set()
    harness.wait_until(batches.all_returned, what="the held batches to return")
    # Then they wrote nothing: no label, no charge, the figures are the stop's, for 10 s and more
    assert "run_not_running" in batches.outcomes
    while time.monotonic() - stop_time < QUIET_S:
        assert _figures(stack, ref) == at_stop
        time.sleep(0.5)
    assert at_stop[1:] == (16, 0, 0, TASKS - 16, 16, LIMIT - 16)
    # When the mapping is edited and pre-labeling starts again (from the console: projectId only)
    edited = {**MAPPING, "default_threshold": 0.6}
    assert call_api("PUT", f"/projects/{ref.project_id}/mapping", "acme", edited).status == 200
    reconfigure(stack, max_concurrency=4)
    if how == "api":
        again = call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {})
        assert again.status == 201, again.body
    else:
        boto3.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn,
            name=f"console-{int(time.time() * 1000)}",
            input=json.dumps({"projectId": ref.project_id}),
        )
        harness.wait_until(
            lambda: (
                call_api("GET", f"/projects/{ref.project_id}/runs/current", "acme").body["run_id"]
                != stopped["run_id"]
            ),
            what="the console start to create its run",
        )
    final = wait_for_end(ref)
    # Then the new run continued with what was left, and every task is pre-labeled exactly once
    assert final["status"] == "COMPLETED", final
    assert final["labeled"] == TASKS - 16
    tasks = all_tasks(ref)
    assert sum(1 for t in tasks if t["prelabel_state"] == "DONE") == TASKS
    assert LIMIT - stack.ledger.remaining("acme") == TASKS
    runs = stack.runs.recent(ref, 10)
    assert sum(r.counters.labeled for r in runs) == TASKS
    assert all(r.status.value in ("STOPPED", "COMPLETED") for r in runs)
    # And the second run used the edited threshold
    assert stack.runs.snapshot(ref, final["run_id"]).default_threshold == 0.6


def _execution_arn(ref: ProjectRef) -> str:
    from prelabel.container import container

    runs = [r for r in container().runs.recent(ref, 5) if r.status.value == "RUNNING"]
    assert len(runs) == 1
    return str(runs[0].execution_arn)
