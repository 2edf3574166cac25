"""The jobs state machine over the fakes, as statemachine/jobs.asl.json runs it: Step until done
(a step that raises is run again from the same cursor, as the ASL's Retry does), a plan's
slices through a Distributed Map (child executions in threads, at most the plan's
maxConcurrency at once, each looping on its slice's steps with the same Retry), a hand-over to
a fresh execution (continue-as-new), then Finish."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from prelabel.domain.entities import ProjectRef
from prelabel.domain.jobs import Job
from prelabel.domain.slices import SlicePlan
from prelabel.services.jobs.finish import JobFinisher
from prelabel.services.jobs.runner import Execution, JobRunner, SliceAnswer, StepAnswer
from tests.unit.fakes.outside import FakeOrchestrator, MemoryObjects

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
    objects: MemoryObjects | None = None
    # Called before each attempt with (step number, attempt): raise to crash that attempt.
    before_step: Callable[[int, int], None] | None = None
    # Called before each attempt of a slice's step with (plan object key, attempt).
    before_slice: Callable[[str, int], None] | None = None
    # Each job's step answers, in order; each job's slice answers (any order); the executions
    # each job ran in; the largest number of slice steps seen running at once.
    steps: dict[str, list[StepAnswer]] = field(default_factory=dict)
    slice_steps: dict[str, list[SliceAnswer]] = field(default_factory=dict)
    executions: dict[str, list[str]] = field(default_factory=dict)
    most_at_once: int = 0
    _running: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, job: Job) -> Job:
        """Run `job` as its execution would, to its end."""
        return self.run_started(job.project, job.job_id)

    def run_started(self, ref: ProjectRef, job_id: str, name: str | None = None) -> Job:
        cursor, events, number = "", 0, 0
        name = name or job_id
        self.executions.setdefault(job_id, []).append(name)
        while True:
            answer = self._step(ref, job_id, cursor, number, Execution(name, events))
            self.steps.setdefault(job_id, []).append(answer)
            number += 1
            if answer.done:
                return self.finisher.finish(ref, job_id, answer.failure)
            if answer.handed_over:
                self.orchestrator.states[f"arn:exec:{name}"] = "SUCCEEDED"
                name, events = self.orchestrator.started[-1][0], 0
                self.executions[job_id].append(name)
            elif answer.plan is not None:
                self._map(ref, job_id, answer.plan)
                events = answer.events
            else:
                events = answer.events
            cursor = answer.cursor

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

    def slice_keys(self, plan: SlicePlan) -> list[str]:
        """The plan objects the Map would hand its child executions, in order."""
        assert self.objects is not None, "the loop needs the objects the plans are written to"
        return sorted(
            k for (b, k) in self.objects.objects if b == plan.bucket and k.startswith(plan.prefix)
        )

    def slice_once(self, ref: ProjectRef, job_id: str, plan: SlicePlan, n: int = 0) -> SliceAnswer:
        """One step of the plan's `n`th slice, as its child execution would run it."""
        where = (plan.bucket, self.slice_keys(plan)[n])
        return self.runner.slice_step(ref, job_id, where, Execution(), 0.0)

    def _step(
        self, ref: ProjectRef, job_id: str, cursor: str, number: int, at: Execution
    ) -> StepAnswer:
        for attempt in range(STEP_ATTEMPTS):
            try:
                if self.before_step is not None:
                    self.before_step(number, attempt)
                retried = Execution(at.name, at.events, attempt)
                return self.runner.step(ref, job_id, cursor, retried)
            except Exception:
                if attempt == STEP_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _map(self, ref: ProjectRef, job_id: str, plan: SlicePlan) -> None:
        """One child execution per object under the plan's prefix, at most maxConcurrency at
        once; a slice that kept failing fails the Map (raised here)."""
        keys = self.slice_keys(plan)
        assert len(keys) == plan.count
        with ThreadPoolExecutor(max_workers=plan.max_concurrency) as pool:
            for done in [pool.submit(self._child, ref, job_id, (plan.bucket, k)) for k in keys]:
                done.result()

    def _child(self, ref: ProjectRef, job_id: str, where: tuple[str, str]) -> None:
        events, since = 0, 0.0
        while True:
            answer = self._slice_step(ref, job_id, where, events, since)
            with self._lock:
                self.slice_steps.setdefault(job_id, []).append(answer)
            if answer.done:
                return
            events, since = answer.events, answer.since

    def _slice_step(
        self, ref: ProjectRef, job_id: str, where: tuple[str, str], events: int, since: float
    ) -> SliceAnswer:
        for attempt in range(STEP_ATTEMPTS):
            with self._lock:
                self._running += 1
                self.most_at_once = max(self.most_at_once, self._running)
            try:
                if self.before_slice is not None:
                    self.before_slice(where[1], attempt)
                at = Execution("", events, attempt)
                return self.runner.slice_step(ref, job_id, where, at, since)
            except Exception:
                if attempt == STEP_ATTEMPTS - 1:
                    raise
            finally:
                with self._lock:
                    self._running -= 1
        raise AssertionError("unreachable")
