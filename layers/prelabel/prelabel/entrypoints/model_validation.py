"""The model validation state machine's Lambda: one uploaded file validated, or (the state
machine's last resort, `error` in the event) the upload failed with why.

The validator comes from the function (`functions/model_validation/app.py`): it runs the
detector's code, which this layer does not carry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from prelabel.container import container
from prelabel.domain.detector_models import ModelRef
from prelabel.entrypoints.asl_event import AslEvent
from prelabel.ports.detector_models import ModelValidator

logger = Logger(service="prelabel-models")
LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


class UploadRef(AslEvent):
    orgId: str = Field(min_length=1, max_length=128)  # noqa: N815 - the ASL's JSON names
    modelId: str = Field(min_length=1, max_length=128)  # noqa: N815
    uploadId: str = Field(min_length=1, max_length=128)  # noqa: N815

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.orgId, self.modelId)


class ValidationEvent(AslEvent):
    """What statemachine/model_validation.asl.json sends: the upload, and on the Failed state
    the error the Validate state kept ending with."""

    upload: UploadRef
    error: dict[str, Any] | None = None

    @property
    def failure(self) -> str | None:
        if self.error is None:
            return None
        what = f"{self.error.get('Error', 'error')}: {self.error.get('Cause', '')}"
        return what[:1000]


class ValidationResult(AslEvent):
    status: str


def handler_with(make_validator: Callable[[], ModelValidator]) -> LambdaHandler:
    """The handler, with the validator made once per process (on first use)."""
    made: list[ModelValidator] = []

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        parsed = ValidationEvent.model_validate(event)
        upload = parsed.upload
        logger.set_correlation_id(upload.uploadId)
        c = container("model_validation")
        if not made:
            made.append(make_validator())
        if "model_validation_job" not in c.__dict__:
            c.override(model_validator=made[0])
        job = c.model_validation_job
        if parsed.failure is not None:
            ended = job.fail(upload.ref, upload.uploadId, parsed.failure)
        else:
            ended = job.run(upload.ref, upload.uploadId)
        logger.info(
            "model validation",
            extra={"status": ended.status.value, "version": ended.version, "reason": ended.reason},
        )
        return ValidationResult(status=ended.status.value).model_dump()

    return handler
