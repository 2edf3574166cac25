"""The jobs state machine's loop over the fakes: Step until done (a step that raises is run
again from the same cursor, as the ASL's Retry does), then Finish."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prelabel.domain.entities import ProjectRef
from prelabel.domain.jobs import Job, StepOutcome
from prelabel.services.jobs.finish import JobFinisher
from prelabel.services.jobs.runner import JobRunner
from tests.unit.fakes.outside import FakeOrchestrator

ASL = Path(__file__).resolve().parents[3] / "statemachine" / "jobs.asl.json"


def _step_attempts() -> int:
    """1 + the retries the ASL gives a failed step (States.TaskFailed)."""
    retries = json.loads(ASL.read_text())["States"]["Step"]["Retry"]
    (crash,) = [r for r in retries if r["ErrorEquals"] == ["States.TaskFailed"]]
    return 1 + int(crash["MaxAttempts"])


STEP_ATTEMPTS = _step_attempts()


@dataclass
class JobLoop:
    runner: JobRunner
    finisher: JobFinisher
    orchestrator: FakeOrchestrator
    # Called before each attempt with (step number, attempt): raise to crash that attempt.
    before_step: Callable[[int, int], None] | None = None
    # Each job's step outcomes, in order.
    steps: dict[str, list[StepOutcome]] = field(default_factory=dict)

    def run(self, job: Job) -> Job:
        """Run `job` as its execution would, to its end."""
        return self.run_started(job.project, job.job_id)

    def run_started(self, ref: ProjectRef, job_id: str) -> Job:
        cursor = ""
        number = 0
        while True:
            outcome = self._step(ref, job_id, cursor, number)
            self.steps.setdefault(job_id, []).append(outcome)
            number += 1
            if outcome.done:
                return self.finisher.finish(ref, job_id, outcome.failure)
            cursor = outcome.cursor

    def run_all(self) -> list[Job]:
        """Every execution started so far (in order), each to its end."""
        ended = []
        for name, payload in list(self.orchestrator.started):
            job = payload["job"]
            assert isinstance(job, dict)
            ref = ProjectRef(str(job["orgId"]), str(job["projectId"]))
            if self.orchestrator.states.get(f"arn:exec:{name}") == "RUNNING":
                ended.append(self.run_started(ref, str(job["jobId"])))
                self.orchestrator.states[f"arn:exec:{name}"] = "SUCCEEDED"
        return ended

    def _step(self, ref: ProjectRef, job_id: str, cursor: str, number: int) -> StepOutcome:
        for attempt in range(STEP_ATTEMPTS):
            try:
                if self.before_step is not None:
                    self.before_step(number, attempt)
                return self.runner.step(ref, job_id, cursor)
            except Exception:
                if attempt == STEP_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")
