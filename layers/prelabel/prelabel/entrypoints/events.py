"""The workflow's Lambda events and results, typed: what the ASL sends and what it selects.

tests/unit/workflow/test_workflow_events.py checks every key the ASL's Parameters, ItemSelector
and ResultSelector name against these models, so the two cannot drift apart.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, field_validator
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass as pydantic_dataclass

from prelabel.entrypoints.asl_event import AslEvent
from prelabel.services.runs import Prepared


class ExecutionInput(AslEvent):
    """What an execution starts with: the API sends all three, a console start only projectId."""

    projectId: str = Field(min_length=1, max_length=128)  # noqa: N815 - the ASL's JSON names
    orgId: str | None = Field(default=None, max_length=128)  # noqa: N815
    runId: str | None = Field(default=None, max_length=128)  # noqa: N815


class PrepareEvent(AslEvent):
    input: ExecutionInput
    executionName: str = Field(min_length=1)  # noqa: N815
    executionArn: str = Field(min_length=1)  # noqa: N815


@pydantic_dataclass(
    frozen=True,
    config=ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True),
)
class PrepareResult(Prepared):
    """Prepare's answer: the service's Prepared and the Distributed Map's two settings. The
    ASL's ResultSelector picks from it by the camelCase names."""

    max_concurrency: int
    tolerated_failure_percentage: int

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = TypeAdapter(PrepareResult).dump_python(self)
        return out


class LabelBatchEvent(AslEvent):
    """One Distributed Map item: a manifest object, and how often this batch was retried."""

    bucket: str = Field(min_length=1)
    key: str = Field(min_length=1)
    retryCount: int = Field(default=0, ge=0)  # noqa: N815


class FinishEvent(AslEvent):
    """The state machine's last step; `state.error` is present when a step failed."""

    input: ExecutionInput
    executionName: str = Field(min_length=1)  # noqa: N815
    state: dict[str, Any] = Field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.state.get("error"))


class FinishResult(AslEvent):
    runId: str  # noqa: N815
    status: str


class ExecutionStatusDetail(AslEvent):
    name: str = Field(min_length=1)
    status: str
    input: ExecutionInput

    @field_validator("input", mode="before")
    @classmethod
    def _decode(cls, value: Any) -> Any:
        # EventBridge carries the execution's input as a JSON string.
        return json.loads(value) if isinstance(value, str) else value


class ExecutionStatusChange(AslEvent):
    """EventBridge: Step Functions Execution Status Change (a stop from the console)."""

    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    detail: ExecutionStatusDetail
