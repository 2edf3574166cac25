"""Distributed Map item processor: pre-label one batch of a run's manifest."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from prelabel.container import container
from prelabel.entrypoints.events import LabelBatchEvent
from prelabel.services.labeling import BatchReport

logger = Logger(service="prelabel-workflow")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = LabelBatchEvent.model_validate(event)
    c = container("label_batch")
    item = c.manifests.read(parsed.bucket, parsed.key)
    logger.set_correlation_id(item.run_id)
    report = c.worker.label_batch(item, attempt=parsed.retryCount)
    _publish_metrics(report, len(item.task_ids))
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


def _publish_metrics(report: BatchReport, batch_size: int) -> None:
    # Each invocation publishes its own document. Powertools' Metrics shares one metric set
    # between instances, so batches run on threads of one process (the local stack's Map) would
    # flush each other's figures, or fail a committed batch with an empty set.
    metrics = EphemeralMetrics(namespace="Prelabel", service="prelabel-workflow")
    metrics.add_metric("ImagesLabeled", MetricUnit.Count, report.labeled)
    metrics.add_metric("ImagesFailed", MetricUnit.Count, report.failed)
    metrics.add_metric("ImagesSkippedQuota", MetricUnit.Count, report.skipped_quota)
    metrics.add_metric("BatchSize", MetricUnit.Count, batch_size)
    if report.endpoint:
        metrics.add_metric("EndpointLatency", MetricUnit.Milliseconds, report.endpoint.ms)
    metrics.flush_metrics()
