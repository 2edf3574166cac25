"""Jobs state machine step: one bounded slice of a job's work."""

from __future__ import annotations

from prelabel.container import Container
from prelabel.entrypoints.job_events import JobStepEvent, JobStepResult
from prelabel.entrypoints.job_handler import job_handler, logger


@job_handler(JobStepEvent, "job_step")
def handler(event: JobStepEvent, c: Container) -> JobStepResult:
    outcome = c.job_runner.step(event.job.ref, event.job.jobId, event.step.cursor)
    logger.info(
        "job step",
        extra={"done": outcome.done, "failure": outcome.failure, "attempt": event.retryCount},
    )
    return JobStepResult(done=outcome.done, cursor=outcome.cursor, failure=outcome.failure)
