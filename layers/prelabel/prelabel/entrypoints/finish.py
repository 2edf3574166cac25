"""Finish a run: the state machine's last step, and the EventBridge rule for console stops."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from prelabel.domain.entities import ProjectRef
from prelabel.entrypoints.workflow_env import logger, ports
from prelabel.services.runs import Ending, finish_run


def _from_event(event: dict[str, Any]) -> tuple[dict[str, Any], str, Ending]:
    if "detail" in event:  # EventBridge: Step Functions Execution Status Change
        detail = event["detail"]
        return (
            json.loads(detail.get("input") or "{}"),
            detail["name"],
            Ending.of_execution(detail["status"]),
        )
    failed = bool((event.get("state") or {}).get("error"))
    return (
        event.get("input") or {},
        str(event["executionName"]),
        (Ending.FAILED if failed else Ending.SUCCEEDED),
    )


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    execution_input, run_id, ending = _from_event(event)
    logger.set_correlation_id(run_id)
    deps = ports().run_deps
    org_id = execution_input.get("orgId")
    project_id = str(execution_input["projectId"])
    ref = ProjectRef(org_id, project_id) if org_id else deps.run_store.resolve_project(project_id)
    run = finish_run(deps, ref, run_id, ending)
    status = run.status.value if run else "NO_RUN"
    logger.info("run finished", extra={"status": status, "ending": ending.value})
    return {"runId": run_id, "status": status}
