"""statemachine/jobs.asl.json and the job functions' event models agree (the payloads: see
tests/unit/test_asl_payloads.py), and the execution input the API starts a job with is what the
first step reads."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from prelabel.domain.jobs import JobKind
from prelabel.entrypoints.job_events import (
    JobFinishEvent,
    JobFinishResult,
    JobSliceResult,
    JobStepEvent,
    JobStepResult,
    SliceState,
    StepState,
)
from prelabel.services.jobs.service import new_job
from tests.unit.asl import fields, states
from tests.unit.fakes.world import World

STATES = states("jobs.asl.json")


def test_the_loop_hands_each_steps_answer_to_the_next_step() -> None:
    # Given what the ASL picks from a step's answer, where it puts it, and what it loops on
    step = STATES["Step"]
    picked = {k.removesuffix(".$"): v for k, v in step["ResultSelector"].items()}
    # Then it picks every field of the step's result, stores it where the next step reads its
    # state, and loops until `done`, running a plan's slices first, ending where it handed over
    assert set(picked) == fields(JobStepResult) == fields(StepState)
    assert {v.removeprefix("$.Payload.") for v in picked.values()} == fields(JobStepResult)
    assert step["ResultPath"] == step["Parameters"]["Payload"]["step.$"] == "$.step"
    routes = {
        (c["Variable"], c.get("BooleanEquals", c.get("IsNull"))): c["Next"]
        for c in STATES["MoreWork"]["Choices"]
    }
    assert routes == {
        ("$.step.done", True): "Finish",
        ("$.step.handedOver", True): "HandedOver",
        ("$.step.plan", False): "Slices",
    }
    assert STATES["MoreWork"]["Default"] == "Step"
    assert STATES["HandedOver"]["Type"] == "Succeed"
    # And Finish hears about a step that failed for good, and answers its status
    assert step["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Finish"}
    ]
    assert {v.removeprefix("$.Payload.") for v in STATES["Finish"]["ResultSelector"].values()} <= (
        fields(JobFinishResult)
    )


def test_the_map_runs_each_slice_of_the_plan_until_it_answers_done() -> None:
    # Given the Map over a plan's objects and its child's loop
    slices = STATES["Slices"]
    reader = slices["ItemReader"]["Parameters"]
    child = STATES["SliceStep"]
    picked = {k.removesuffix(".$"): v for k, v in child["ResultSelector"].items()}
    # Then it lists the plan's prefix, runs at most the plan's maxConcurrency at once, and goes
    # back to the job's next step (the merge), or to Finish when a slice kept failing
    assert (reader["Bucket.$"], reader["Prefix.$"]) == ("$.step.plan.bucket", "$.step.plan.prefix")
    assert slices["MaxConcurrencyPath"] == "$.step.plan.maxConcurrency"
    assert slices["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "${ChildExecutionType}",
    }
    assert (slices["Next"], slices["ResultPath"]) == ("Step", None)
    assert slices["Catch"][0]["Next"] == "Finish"
    # And each child starts from a slice state its event reads, hands every field of a slice
    # step's result to the next, and ends once `done`
    first = {k.removesuffix(".$"): v for k, v in slices["ItemSelector"]["slice"].items()}
    assert set(first) == fields(SliceState)
    assert set(picked) == fields(JobSliceResult) == fields(SliceState)
    assert child["ResultPath"] == child["Parameters"]["Payload"]["slice.$"] == "$.slice"
    (done,) = STATES["SliceMore"]["Choices"]
    assert (done["Variable"], done["BooleanEquals"]) == ("$.slice.done", True)
    assert STATES["SliceMore"]["Default"] == "SliceStep"

    # And its retries are the job step's: a crashed slice step runs again the same way
    def policies(retries: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k != "Comment"} for r in retries]

    assert policies(child["Retry"]) == policies(STATES["Step"]["Retry"])


def test_the_execution_input_the_api_sends_is_what_the_first_step_reads() -> None:
    # Given a job started by the API (over the fakes)
    w = World()
    ref = w.project(waiting=0)
    job = w.job_service.launch(new_job(ref, JobKind.MOVE, {"from": "BACKLOG", "to": "WAITING"}))
    (name, payload) = w.job_orchestrator.started[0]
    # When the first step's event is built from it as the ASL does ($.job, $.step)
    event = JobStepEvent.model_validate({"job": payload["job"], "step": payload["step"]})
    # Then it names the job, and starts from the empty cursor
    assert name == job.job_id
    assert (event.job.ref, event.job.jobId) == (ref, job.job_id)
    assert (event.step.done, event.step.cursor, event.step.failure) == (False, "", None)


def test_finish_reads_why_a_job_failed_from_the_step_or_the_catch() -> None:
    # Given Finish's events: after a step that answered a failure, after one caught, and after
    # a step that finished normally
    job = {"orgId": "o", "projectId": "p", "jobId": "job_1"}
    told = {"job": job, "state": {"step": {"done": True, "cursor": "", "failure": "no bucket"}}}
    caught = {
        "job": job,
        "state": {
            "step": {"done": False, "cursor": "{}", "failure": None},
            "error": {"Error": "StorageError", "Cause": "throttled"},
        },
    }
    fine = {"job": job, "state": {"step": {"done": True, "cursor": "{}", "failure": None}}}
    # When they are parsed
    # Then the failure is the step's words, or the error the Catch kept, or none
    assert JobFinishEvent.model_validate(told).failure == "no bucket"
    assert JobFinishEvent.model_validate(caught).failure == (
        "a step failed: StorageError: throttled"
    )
    assert JobFinishEvent.model_validate(fine).failure is None
    # And an event without the job's ids is refused naming the field
    with pytest.raises(ValidationError, match="jobId"):
        JobStepEvent.model_validate({"job": {"orgId": "o", "projectId": "p"}, "step": {}})
