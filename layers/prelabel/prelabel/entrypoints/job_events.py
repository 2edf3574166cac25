"""The jobs state machine's Lambda events and results, typed: what statemachine/jobs.asl.json
sends and what it selects (tests/unit/workflow/test_job_events.py checks the two agree)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from prelabel.domain.entities import ProjectRef
from prelabel.entrypoints.asl_event import AslEvent


class JobRef(AslEvent):
    orgId: str = Field(min_length=1, max_length=128)  # noqa: N815 - the ASL's JSON names
    projectId: str = Field(min_length=1, max_length=128)  # noqa: N815
    jobId: str = Field(min_length=1, max_length=128)  # noqa: N815

    @property
    def ref(self) -> ProjectRef:
        return ProjectRef(self.orgId, self.projectId)


class PlanOut(AslEvent):
    """Where the Distributed Map reads a round of slices, and how many it runs at once."""

    bucket: str
    prefix: str
    count: int = Field(ge=0)
    maxConcurrency: int = Field(ge=1)  # noqa: N815


class StepState(AslEvent):
    """What the last step answered (the execution's input holds the first one's): a plan is
    run by the Map before the next step; a step that handed over ends the execution."""

    done: bool = False
    cursor: str = ""
    failure: str | None = None
    plan: PlanOut | None = None
    handedOver: bool = False  # noqa: N815
    events: int = Field(default=0, ge=0)


class JobEvent(AslEvent):
    """What every step of the jobs state machine is sent: the job it works on."""

    job: JobRef


class JobStepEvent(JobEvent):
    step: StepState
    retryCount: int = Field(default=0, ge=0)  # noqa: N815
    # The execution's name: a job continued as new runs in `<job>-1`, `<job>-2`, ...
    execution: str = Field(default="", max_length=80)


class JobStepResult(AslEvent):
    done: bool
    cursor: str
    failure: str | None
    plan: PlanOut | None
    handedOver: bool  # noqa: N815
    events: int


class SliceState(AslEvent):
    """A slice's execution state: the plan object the Map handed it, whether it ends, its
    history events, and when its first step ran (0: not yet)."""

    bucket: str = Field(min_length=1, max_length=255)
    key: str = Field(min_length=1, max_length=1024)
    done: bool = False
    events: int = Field(default=0, ge=0)
    since: float = Field(default=0.0, ge=0)


class JobSliceEvent(JobEvent):
    """A step of one slice, in a child execution of the Map."""

    slice: SliceState
    retryCount: int = Field(default=0, ge=0)  # noqa: N815


class JobSliceResult(SliceState):
    """The slice's state after the step (what the child's next step is sent)."""


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


class JobFinishResult(AslEvent):
    jobId: str  # noqa: N815
    status: str
