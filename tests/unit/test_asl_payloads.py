"""Both state machines send each Lambda function what its event model reads: nothing it would
drop, and every field it requires."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from prelabel.entrypoints.events import FinishEvent, LabelBatchEvent, PrepareEvent
from prelabel.entrypoints.job_events import JobFinishEvent, JobSliceEvent, JobStepEvent
from tests.unit.asl import fields, keys, required_fields, states

WORKFLOW = states("prelabel.asl.json")
JOBS = states("jobs.asl.json")


@pytest.mark.parametrize(
    ("machine", "state", "model"),
    [
        pytest.param(WORKFLOW, "Prepare", PrepareEvent, id="workflow-Prepare"),
        pytest.param(WORKFLOW, "Finish", FinishEvent, id="workflow-Finish"),
        pytest.param(WORKFLOW, "LabelBatch", LabelBatchEvent, id="workflow-LabelBatch"),
        pytest.param(JOBS, "Step", JobStepEvent, id="jobs-Step"),
        pytest.param(JOBS, "SliceStep", JobSliceEvent, id="jobs-SliceStep"),
        pytest.param(JOBS, "Finish", JobFinishEvent, id="jobs-Finish"),
    ],
)
def test_every_payload_key_the_asl_sends_is_a_field_of_the_handlers_event(
    machine: dict[str, dict[str, Any]], state: str, model: type[BaseModel]
) -> None:
    # Given the payload the state sends to its Lambda function
    payload = machine[state]["Parameters"]["Payload"]
    # When its keys are compared with the event model's fields
    # Then each one is a field: the handler reads everything it is sent
    assert keys(payload) <= fields(model)
    # And every required field of the model is sent
    assert required_fields(model) <= keys(payload)
