"""State machine step Prepare: create the run when the console started it, write the manifest."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from prelabel.entrypoints.workflow_env import logger, ports
from prelabel.services.prepare import prepare_run

DEFAULT_MAX_CONCURRENCY = 8


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    execution_input = event.get("input") or {}
    run_id = str(event["executionName"])
    logger.set_correlation_id(run_id)
    p = ports()
    prepared = prepare_run(
        p.run_deps,
        p.manifests,
        project_id=str(execution_input["projectId"]),
        org_id=execution_input.get("orgId"),
        execution_name=run_id,
        execution_arn=str(event["executionArn"]),
    )
    logger.info("run prepared", extra={"total": prepared.total, "batches": prepared.batches})
    return {
        "runId": prepared.run_id,
        "orgId": prepared.org_id,
        "projectId": prepared.project_id,
        "manifestBucket": prepared.manifest_bucket,
        "manifestPrefix": prepared.manifest_prefix,
        "total": prepared.total,
        "batches": prepared.batches,
        "maxConcurrency": int(os.environ.get("MAX_CONCURRENCY", DEFAULT_MAX_CONCURRENCY)),
        # A batch that keeps failing leaves its tasks untouched; the other batches go on.
        "toleratedFailurePercentage": 100,
    }
