"""Finish a run: the state machine's last step, and the EventBridge rule for console stops."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter

from prelabel.container import container
from prelabel.domain.entities import ProjectRef
from prelabel.domain.run_rules import Ending
from prelabel.entrypoints.events import (
    ExecutionInput,
    ExecutionStatusChange,
    FinishEvent,
    FinishResult,
)

logger = Logger(service="prelabel-workflow")
_EVENT: TypeAdapter[ExecutionStatusChange | FinishEvent] = TypeAdapter(
    ExecutionStatusChange | FinishEvent
)


def _ending(event: ExecutionStatusChange | FinishEvent) -> tuple[ExecutionInput, str, Ending]:
    if isinstance(event, ExecutionStatusChange):
        d = event.detail
        return d.input, d.name, Ending.of_execution(d.status)
    return event.input, event.executionName, Ending.FAILED if event.failed else Ending.SUCCEEDED


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    execution_input, run_id, ending = _ending(_EVENT.validate_python(event))
    logger.set_correlation_id(run_id)
    c = container("finish")
    org_id, project_id = execution_input.orgId, execution_input.projectId
    ref = ProjectRef(org_id, project_id) if org_id else c.projects.find_by_id(project_id)
    run = c.run_service.finish(ref, run_id, ending)
    status = run.status.value if run else "NO_RUN"
    logger.info("run finished", extra={"status": status, "ending": ending.value})
    return FinishResult(runId=run_id, status=status).model_dump()
