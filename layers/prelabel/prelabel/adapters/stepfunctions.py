"""State machines (pre-labeling runs, jobs), started, stopped and watched through Step Functions."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from prelabel.domain.errors import StorageError
from prelabel.ports.orchestration import ExecutionGone, Orchestrator
from prelabel.settings import ConfigurationError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class StepFunctionsOrchestrator(Orchestrator):
    def __init__(
        self,
        make_client: Callable[[], SFNClient],
        state_machine_arn: str,
        setting: str = "STATE_MACHINE_ARN",
    ) -> None:
        self._make_client = make_client
        self._arn = state_machine_arn
        self._setting = setting

    @cached_property
    def _sfn(self) -> SFNClient:
        if not self._arn:
            raise ConfigurationError(f"{self._setting}: this function starts or stops executions")
        return self._make_client()

    def start(self, run_id: str, payload: Mapping[str, object]) -> str:
        try:
            # Named after the run: the execution and the run are found from each other.
            reply = self._sfn.start_execution(
                stateMachineArn=self._arn, name=run_id, input=json.dumps(payload)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                # Started by an earlier attempt of the same step (a job handing over to its
                # next execution, retried): that execution is the one.
                return self.execution_arn(run_id)
            raise StorageError(f"starting the workflow failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"starting the workflow failed: {exc}") from exc
        return reply["executionArn"]

    def execution_arn(self, name: str) -> str:
        """The ARN of this state machine's execution `name`."""
        machine = self._arn.replace(":stateMachine:", ":execution:", 1)
        return f"{machine}:{name}"

    def stop(self, execution_arn: str, cause: str) -> None:
        try:
            self._sfn.stop_execution(executionArn=execution_arn, cause=cause)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return
            raise StorageError(f"stopping the workflow failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"stopping the workflow failed: {exc}") from exc

    def status(self, execution_arn: str) -> str:
        try:
            return self._sfn.describe_execution(executionArn=execution_arn)["status"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                raise ExecutionGone(f"no execution {execution_arn}") from exc
            raise StorageError(f"reading the workflow's status failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"reading the workflow's status failed: {exc}") from exc
