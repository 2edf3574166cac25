"""Jobs state machine's last step: the job's final status and what it leaves on its dataset."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from prelabel.container import container
from prelabel.entrypoints.job_events import JobFinishEvent, JobFinishResult

logger = Logger(service="prelabel-jobs")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = JobFinishEvent.model_validate(event)
    logger.set_correlation_id(parsed.job.jobId)
    job = container("job_finish").job_finisher.finish(
        parsed.job.ref, parsed.job.jobId, parsed.failure
    )
    logger.info("job finished", extra={"status": job.status.value, "error": job.error})
    return JobFinishResult(jobId=job.job_id, status=job.status.value).model_dump()
