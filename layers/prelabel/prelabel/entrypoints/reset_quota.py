"""The monthly schedule's handler: restore every organization's limit for the current period."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from prelabel.container import container
from prelabel.domain.period import period_of

logger = Logger(service="prelabel-reset-quota")


def _period(event: dict[str, Any]) -> str:
    # Scheduler and EventBridge pass the firing time; a manual invoke may omit it.
    raw = event.get("time")
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else datetime.now(UTC)
    return period_of(moment)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    c = container("reset_quota")
    report = c.monthly_reset.run(_period(event))
    logger.info(
        "monthly limits reset",
        extra={
            "period": report.period,
            "reset": len(report.reset),
            "already": len(report.already_reset),
        },
    )
    return {"period": report.period, "reset": report.reset, "already_reset": report.already_reset}
