"""What every Lambda of the jobs state machine does around its own step: read the event, log
under the job's id, fetch the container, answer the result model as the ASL reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from prelabel.container import Container, container
from prelabel.entrypoints.job_events import JobEvent

logger = Logger(service="prelabel-jobs")

Event = TypeVar("Event", bound=JobEvent)
Step = Callable[[Event, Container], BaseModel]
LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def job_handler(event_type: type[Event], function: str) -> Callable[[Step[Event]], LambdaHandler]:
    """`function`: the key of FUNCTION_NEEDS whose environment the step reads."""

    def wrap(step: Step[Event]) -> LambdaHandler:
        @logger.inject_lambda_context
        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            parsed = event_type.model_validate(event)
            logger.set_correlation_id(parsed.job.jobId)
            return step(parsed, container(function)).model_dump()

        return handler

    return wrap
