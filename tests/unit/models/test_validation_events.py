"""statemachine/model_validation.asl.json and the validation function's event agree, and the
function run on the execution input the API starts it with validates that upload (over the
fakes); the Failed state's event records why the job gave up."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from prelabel.container import use_container
from prelabel.domain.detector_models import ModelRef, VersionStatus
from prelabel.entrypoints.model_validation import ValidationEvent, ValidationResult, handler_with
from prelabel.settings import Settings
from tests.unit.asl import fields, keys, states
from tests.unit.fakes.models import ScriptedValidator
from tests.unit.fakes.world import ORG, World
from tests.unit.models.builders import spec, uploaded

STATES = states("model_validation.asl.json")
CONTEXT = SimpleNamespace(
    function_name="ModelValidationFunction",
    memory_limit_in_mb=6144,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:ModelValidationFunction",
    aws_request_id="req",
)


@pytest.fixture
def world() -> Iterator[World]:
    w = World()
    # The validation function's environment: its table and bucket (the fakes stand for them).
    settings = Settings(models_table="models", models_bucket="models-bucket")
    w.services.settings = settings
    use_container(w.services)
    yield w
    use_container(None)


def test_both_states_send_what_the_event_reads_and_read_what_it_answers() -> None:
    # Given the Validate and Failed states
    validate, failed = STATES["Validate"], STATES["Failed"]
    # Then each sends the upload (Failed also the error it caught) and reads the status
    assert keys(validate["Parameters"]["Payload"]) == {"upload"}
    assert keys(failed["Parameters"]["Payload"]) == {"upload", "error"} == fields(ValidationEvent)
    for state in (validate, failed):
        picked = {v.removeprefix("$.Payload.") for v in state["ResultSelector"].values()}
        assert picked == fields(ValidationResult)
    assert validate["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}
    ]


def test_the_function_validates_the_upload_the_api_started_it_for(world: World) -> None:
    # Given an upload submitted through the service (which starts the execution)
    model, ticket = world.model_service.create(ORG, spec())
    ref = ModelRef(ORG, model.model_id)
    uploaded(world, ref, ticket.upload.upload_id, b"model bytes")
    world.model_service.submit(ref, ticket.upload.upload_id)
    (_, execution_input) = world.validation_orchestrator.started[0]
    # When the function gets Validate's payload ($.upload of the execution input)
    handler = handler_with(ScriptedValidator)
    answer = handler({"upload": execution_input["upload"]}, CONTEXT)  # type: ignore[arg-type]
    # Then the upload's file is READY
    assert answer == {"status": "READY"}
    assert world.models.get_upload(ref, ticket.upload.upload_id).status is VersionStatus.READY


def test_the_failed_state_records_why_on_the_upload(world: World) -> None:
    # Given a submitted upload whose Validate state kept failing
    model, ticket = world.model_service.create(ORG, spec())
    ref = ModelRef(ORG, model.model_id)
    uploaded(world, ref, ticket.upload.upload_id, b"model bytes")
    world.model_service.submit(ref, ticket.upload.upload_id)
    (_, execution_input) = world.validation_orchestrator.started[0]
    error = {"Error": "Sandbox.Timedout", "Cause": "Task timed out after 900.00 seconds"}
    # When the Failed state's payload reaches the function
    handler = handler_with(ScriptedValidator)
    answer = handler({**execution_input, "error": error}, CONTEXT)  # type: ignore[arg-type]
    # Then the upload is FAILED with the error, and no version was made of it
    upload = world.models.get_upload(ref, ticket.upload.upload_id)
    assert answer == {"status": "FAILED"}
    assert upload.reason == (
        "the validation job failed: Sandbox.Timedout: Task timed out after 900.00 seconds"
    )
    assert world.models.versions(ref) == []
