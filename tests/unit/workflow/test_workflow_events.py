"""The ASL and the workflow's event models agree: every key the state machine picks or hands
on is a field of the model on the other side (what it sends: tests/unit/test_asl_payloads.py)."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from pydantic import ValidationError

from prelabel.entrypoints.events import (
    ExecutionStatusChange,
    LabelBatchEvent,
    PrepareEvent,
    PrepareResult,
)
from prelabel.services.runs import Prepared
from tests.unit.asl import fields, keys, states

STATES = states("prelabel.asl.json")


def test_every_key_selected_from_prepares_answer_is_a_field_of_its_result() -> None:
    # Given what the ASL picks from Prepare's answer, and what the Map reads from it
    selected = STATES["Prepare"]["ResultSelector"]
    paths = [v.removeprefix("$.Payload.") for v in selected.values()]
    # When compared with the result model
    # Then each picked path is a field of PrepareResult
    assert set(paths) <= fields(PrepareResult)
    map_paths = {
        STATES["LabelBatches"]["MaxConcurrencyPath"],
        STATES["LabelBatches"]["ToleratedFailurePercentagePath"],
        *STATES["LabelBatches"]["ItemReader"]["Parameters"].values(),
    }
    assert {p.removeprefix("$.prepared.") for p in map_paths} <= keys(selected)


def test_prepares_answer_carries_every_key_the_asl_selects() -> None:
    # Given a prepared run as the service returns it
    prepared = Prepared("run_1", "acme", "prj_1", "data", "manifests/run_1/", 70, 3)
    # When the Prepare function answers with it
    answer = PrepareResult(
        **asdict(prepared), max_concurrency=8, tolerated_failure_percentage=100
    ).dump()
    # Then every path the ResultSelector reads is there, under its camelCase name
    selected = STATES["Prepare"]["ResultSelector"]
    assert {v.removeprefix("$.Payload.") for v in selected.values()} <= set(answer)
    assert answer["runId"] == "run_1"
    assert answer["manifestPrefix"] == "manifests/run_1/"
    assert answer["maxConcurrency"] == 8


def test_the_map_hands_each_item_to_the_worker_as_its_event_expects() -> None:
    # Given the Distributed Map's ItemSelector
    selector = STATES["LabelBatches"]["ItemSelector"]
    # When compared with the worker's event (the task forwards bucket and key)
    # Then the two agree
    assert keys(selector) == {"bucket", "key"}
    assert {"bucket", "key"} <= fields(LabelBatchEvent)


def test_events_are_parsed_strictly_enough_to_catch_a_broken_contract() -> None:
    # Given events as Step Functions and EventBridge send them
    prepare = {
        "input": {"projectId": "prj_1"},
        "executionName": "console-1",
        "executionArn": "arn:aws:states:us-east-1:1:execution:m:console-1",
    }
    stop = {
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"name": "run_1", "status": "ABORTED", "input": '{"projectId": "prj_1"}'},
    }
    # When they are parsed
    # Then a console start has no org, EventBridge's JSON-string input is decoded
    assert PrepareEvent.model_validate(prepare).input.orgId is None
    assert ExecutionStatusChange.model_validate(stop).detail.input.projectId == "prj_1"
    # And an event without the project id is refused with the field named
    with pytest.raises(ValidationError, match="projectId"):
        PrepareEvent.model_validate({**prepare, "input": {}})
