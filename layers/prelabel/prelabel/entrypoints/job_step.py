"""Jobs state machine steps: one bounded step of a job's work, or of one of its slices (the
Distributed Map's child executions call the same function with a `slice`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from prelabel.container import Container
from prelabel.entrypoints.job_events import (
    JobSliceEvent,
    JobSliceResult,
    JobStepEvent,
    JobStepResult,
    PlanOut,
)
from prelabel.entrypoints.job_handler import job_handler, logger
from prelabel.services.jobs.runner import Execution


@job_handler(JobStepEvent, "job_step")
def step(event: JobStepEvent, c: Container) -> JobStepResult:
    at = Execution(event.execution, event.step.events, event.retryCount)
    answer = c.job_runner.step(event.job.ref, event.job.jobId, event.step.cursor, at)
    plan = answer.plan
    logger.info(
        "job step",
        extra={
            "done": answer.done,
            "failure": answer.failure,
            "slices": plan.count if plan else 0,
            "handed_over": answer.handed_over,
            "attempt": event.retryCount,
        },
    )
    return JobStepResult(
        done=answer.done,
        cursor=answer.cursor,
        failure=answer.failure,
        plan=PlanOut(
            bucket=plan.bucket,
            prefix=plan.prefix,
            count=plan.count,
            maxConcurrency=plan.max_concurrency,
        )
        if plan
        else None,
        handedOver=answer.handed_over,
        events=answer.events,
    )


@job_handler(JobSliceEvent, "job_step")
def slice_step(event: JobSliceEvent, c: Container) -> JobSliceResult:
    s = event.slice
    at = Execution("", s.events, event.retryCount)
    answer = c.job_runner.slice_step(event.job.ref, event.job.jobId, (s.bucket, s.key), at, s.since)
    logger.info("slice step", extra={"key": s.key, "done": answer.done, "attempt": at.retries})
    return JobSliceResult(
        bucket=s.bucket, key=s.key, done=answer.done, events=answer.events, since=answer.since
    )


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A slice's step when the event names a slice; the job's step otherwise."""
    return (slice_step if "slice" in event else step)(event, context)
