"""Distributed Map item processor: pre-label one batch of a run's manifest."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from prelabel.container import container
from prelabel.entrypoints.events import LabelBatchEvent

logger = Logger(service="prelabel-workflow")
metrics = Metrics(namespace="Prelabel", service="prelabel-workflow")


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = LabelBatchEvent.model_validate(event)
    c = container("label_batch")
    item = c.manifests.read(parsed.bucket, parsed.key)
    logger.set_correlation_id(item.run_id)
    report = c.worker.label_batch(item, attempt=parsed.retryCount)
    metrics.add_metric("ImagesLabeled", MetricUnit.Count, report.labeled)
    metrics.add_metric("ImagesFailed", MetricUnit.Count, report.failed)
    metrics.add_metric("ImagesSkippedQuota", MetricUnit.Count, report.skipped_quota)
    metrics.add_metric("BatchSize", MetricUnit.Count, len(item.task_ids))
    if report.endpoint:
        metrics.add_metric("EndpointLatency", MetricUnit.Milliseconds, report.endpoint.ms)
    logger.info(
        "batch done",
        extra={
            "batch": item.batch_no,
            "outcome": report.outcome,
            "attempt": parsed.retryCount,
            "labeled": report.labeled,
            "failed": report.failed,
            "skipped_quota": report.skipped_quota,
        },
    )
    return asdict(report)
