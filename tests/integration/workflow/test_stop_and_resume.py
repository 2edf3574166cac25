"""Stop mid-run (API and console), edit the mapping, start again: every task pre-labeled once."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from prelabel.adapters.dynamodb.models import RunModel, TaskModel
from prelabel.domain.entities import ProjectRef
from prelabel.wiring import Ports
from prelabel_local.http_events import call_api
from tests.integration.workflow.conftest import MAPPING, all_tasks, make_project, wait_for_end

TASKS = 40
LIMIT = 1_000


def _wait_until_labeled(ref: ProjectRef, at_least: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = call_api("GET", f"/projects/{ref.project_id}/runs/current", ref.org_id).body
        if run["labeled"] >= at_least:
            return
        time.sleep(0.2)
    raise TimeoutError("the run labeled nothing")


def _runs(ref: ProjectRef) -> list[Any]:
    return list(RunModel.query(ref.key))


def _assert_each_task_once(ref: ProjectRef, stack: Ports) -> None:
    tasks = all_tasks(ref)
    done = [t for t in tasks if t["prelabel_state"] == "DONE"]
    runs = _runs(ref)
    # Every WAITING task pre-labeled; the runs' labeled counters add up to exactly that
    assert len(done) == TASKS
    assert sum(int(r.labeled) for r in runs) == TASKS
    # The sum charged equals the number of DONE tasks
    assert LIMIT - stack.ledger.remaining(ref.org_id) == TASKS
    # No claim is left behind, and no run is still active
    assert not [i.task_id for i in TaskModel.query(ref.key) if i.claim_run_id]
    assert all(r.status in ("STOPPED", "COMPLETED") for r in runs)


@pytest.mark.parametrize("how", ["api", "console"])
def test_stop_edit_mapping_and_resume(
    stack: Ports, state_machine_arn: str, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    # Given 40 WAITING tasks, run one batch of 8 at a time so the run can be stopped midway
    monkeypatch.setenv("MAX_CONCURRENCY", "1")
    ref = make_project(stack, "acme", waiting=TASKS, limit=LIMIT)
    started = call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {})
    assert started.status == 201, started.body
    _wait_until_labeled(ref, 8)
    # When the run is stopped, through the API or from the console (StopExecution)
    if how == "api":
        stopped = call_api("POST", f"/projects/{ref.project_id}/runs/stop", "acme").body
    else:
        boto3.client("stepfunctions").stop_execution(
            executionArn=_execution_arn(ref),
            cause="stopped from the console",
        )
        stopped = wait_for_end(ref)  # progress reads reconcile the aborted execution
    # Then the run is STOPPED with part of the work done, and nothing is left claimed
    assert stopped["status"] == "STOPPED", stopped
    assert 8 <= stopped["labeled"] < TASKS
    time.sleep(1.0)  # a batch in flight at the stop either commits or leaves its tasks untouched
    assert not [i.task_id for i in TaskModel.query(ref.key) if i.claim_run_id]
    # When the mapping is edited and pre-labeling starts again (from the console: projectId only)
    edited = {**MAPPING, "default_threshold": 0.6}
    assert call_api("PUT", f"/projects/{ref.project_id}/mapping", "acme", edited).status == 200
    monkeypatch.setenv("MAX_CONCURRENCY", "4")
    if how == "api":
        again = call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {})
        assert again.status == 201, again.body
    else:
        boto3.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn,
            name=f"console-{int(time.time() * 1000)}",
            input=json.dumps({"projectId": ref.project_id}),
        )
        _wait_for_new_run(ref, stopped["run_id"])
    final = wait_for_end(ref)
    # Then the new run continued with what was left, and every task is pre-labeled exactly once
    assert final["status"] == "COMPLETED", final
    assert final["labeled"] == TASKS - stopped["labeled"]
    _assert_each_task_once(ref, stack)
    # And labels of the second run used the edited threshold
    second_run = max(_runs(ref), key=lambda r: r.started_at)
    assert float(second_run.default_threshold) == 0.6


def _wait_for_new_run(ref: ProjectRef, old_run_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = call_api("GET", f"/projects/{ref.project_id}/runs/current", ref.org_id).body
        if run["run_id"] != old_run_id:
            return
        time.sleep(0.2)
    raise TimeoutError("the console start created no run")


def _execution_arn(ref: ProjectRef) -> str:
    runs = [r for r in _runs(ref) if r.status == "RUNNING"]
    assert len(runs) == 1
    return str(runs[0].execution_arn)
