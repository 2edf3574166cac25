"""State machine step Prepare: create the run when the console started it, write the manifest."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from prelabel.container import container
from prelabel.entrypoints.events import PrepareEvent, PrepareResult

logger = Logger(service="prelabel-workflow")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = PrepareEvent.model_validate(event)
    logger.set_correlation_id(parsed.executionName)
    c = container("prepare")
    prepared = c.run_service.prepare(
        project_id=parsed.input.projectId,
        org_id=parsed.input.orgId,
        execution_name=parsed.executionName,
        execution_arn=parsed.executionArn,
    )
    sizing, problem = c.run_sizing.concurrency(c.settings.detector_endpoint)
    if problem:
        logger.warning("endpoint capacity not read; one instance assumed", extra={"why": problem})
    logger.info(
        "run prepared",
        extra={
            "total": prepared.total,
            "batches": prepared.batches,
            "concurrency": sizing.value,
            "sizing": sizing.describe(),
        },
    )
    return PrepareResult(
        **asdict(prepared),
        max_concurrency=sizing.value,
        # A batch that keeps failing leaves its tasks untouched; the other batches go on.
        tolerated_failure_percentage=100,
    ).dump()
