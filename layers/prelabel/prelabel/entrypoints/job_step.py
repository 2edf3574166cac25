"""Jobs state machine step: one bounded slice of a job's work."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from prelabel.container import container
from prelabel.entrypoints.job_events import JobStepEvent, JobStepResult

logger = Logger(service="prelabel-jobs")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = JobStepEvent.model_validate(event)
    logger.set_correlation_id(parsed.job.jobId)
    outcome = container("job_step").job_runner.step(
        parsed.job.ref, parsed.job.jobId, parsed.step.cursor
    )
    logger.info(
        "job step",
        extra={"done": outcome.done, "failure": outcome.failure, "attempt": parsed.retryCount},
    )
    return JobStepResult(
        done=outcome.done, cursor=outcome.cursor, failure=outcome.failure
    ).model_dump()
