"""The ASL and the workflow's event models agree: every key the state machine sends or picks
is a field of the model on the other side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from prelabel.entrypoints.events import (
    ExecutionStatusChange,
    FinishEvent,
    LabelBatchEvent,
    PrepareEvent,
    PrepareResult,
)

ASL = json.loads(
    (Path(__file__).resolve().parents[3] / "statemachine" / "prelabel.asl.json").read_text()
)


def _states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        found[name] = state
        processor = state.get("ItemProcessor")
        if processor:
            found |= _states(processor)
    return found


STATES = _states(ASL)


def _keys(block: dict[str, Any]) -> set[str]:
    return {k.removesuffix(".$") for k in block}


def _fields(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


@pytest.mark.parametrize(
    ("state", "model"),
    [("Prepare", PrepareEvent), ("Finish", FinishEvent), ("LabelBatch", LabelBatchEvent)],
)
def test_every_payload_key_the_asl_sends_is_a_field_of_the_handlers_event(
    state: str, model: type[BaseModel]
) -> None:
    # Given the payload the state sends to its Lambda function
    payload = STATES[state]["Parameters"]["Payload"]
    # When its keys are compared with the event model's fields
    # Then each one is a field: the handler reads everything it is sent
    assert _keys(payload) <= _fields(model)
    # And every required field of the model is sent
    required = {f.alias or n for n, f in model.model_fields.items() if f.is_required()}
    assert required <= _keys(payload)


def test_every_key_selected_from_prepares_answer_is_a_field_of_its_result() -> None:
    # Given what the ASL picks from Prepare's answer, and what the Map reads from it
    selected = STATES["Prepare"]["ResultSelector"]
    paths = [v.removeprefix("$.Payload.") for v in selected.values()]
    # When compared with the result model
    # Then each picked path is a field of PrepareResult
    assert set(paths) <= _fields(PrepareResult)
    map_paths = {
        STATES["LabelBatches"]["MaxConcurrencyPath"],
        STATES["LabelBatches"]["ToleratedFailurePercentagePath"],
        *STATES["LabelBatches"]["ItemReader"]["Parameters"].values(),
    }
    assert {p.removeprefix("$.prepared.") for p in map_paths} <= _keys(selected)


def test_the_map_hands_each_item_to_the_worker_as_its_event_expects() -> None:
    # Given the Distributed Map's ItemSelector
    selector = STATES["LabelBatches"]["ItemSelector"]
    # When compared with the worker's event (the task forwards bucket and key)
    # Then the two agree
    assert _keys(selector) == {"bucket", "key"}
    assert {"bucket", "key"} <= _fields(LabelBatchEvent)


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
