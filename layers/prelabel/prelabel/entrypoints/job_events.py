"""The jobs state machine's Lambda events and results, typed: what statemachine/jobs.asl.json
sends and what it selects (tests/unit/workflow/test_job_events.py checks the two agree)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from prelabel.domain.entities import ProjectRef


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class JobRef(_Event):
    orgId: str = Field(min_length=1, max_length=128)  # noqa: N815 - the ASL's JSON names
    projectId: str = Field(min_length=1, max_length=128)  # noqa: N815
    jobId: str = Field(min_length=1, max_length=128)  # noqa: N815

    @property
    def ref(self) -> ProjectRef:
        return ProjectRef(self.orgId, self.projectId)


class StepState(_Event):
    """What the last step answered (the execution's input holds the first one's)."""

    done: bool = False
    cursor: str = ""
    failure: str | None = None


class JobEvent(_Event):
    """What every step of the jobs state machine is sent: the job it works on."""

    job: JobRef


class JobStepEvent(JobEvent):
    step: StepState
    retryCount: int = Field(default=0, ge=0)  # noqa: N815


class JobStepResult(_Event):
    done: bool
    cursor: str
    failure: str | None


class JobFinishEvent(JobEvent):
    """The last step; `state.error` is there when a step failed for good (Catch)."""

    state: dict[str, Any] = Field(default_factory=dict)

    @property
    def failure(self) -> str | None:
        step = self.state.get("step") or {}
        if isinstance(step, dict) and step.get("failure"):
            return str(step["failure"])
        error = self.state.get("error")
        if isinstance(error, dict):
            return f"a step failed: {error.get('Error', 'error')}: {error.get('Cause', '')}"[:1000]
        return None


class JobFinishResult(_Event):
    jobId: str  # noqa: N815
    status: str
