"""Runs over in-memory ports: start and its refusals, the manifest, stop, finish, reconcile."""

from __future__ import annotations

import dataclasses

import pytest

from prelabel.domain.entities import ProjectRef, RunStatus
from prelabel.domain.errors import Conflict, NotAllowed, StorageError
from prelabel.domain.plans import Plan
from prelabel.domain.run_rules import Ending, run_message
from prelabel.ports.tasks import Move
from tests.unit.fakes.world import ORG, World


def test_start_refuses_with_each_reason_and_creates_nothing() -> None:
    # Given projects that each miss one condition of start
    world = World()
    ref = world.project(waiting=3)
    cases: list[tuple[str, type[Exception], str]] = [
        ("plan", NotAllowed, "needs the TEAM_PRO plan; this organization is on TEAM"),
        ("mapping", NotAllowed, "the label mapping has no rows"),
        ("limit", NotAllowed, "used up (0 remaining)"),
        ("waiting", Conflict, "no WAITING task is left"),
    ]
    for case, error, words in cases:
        fresh = World()
        r = fresh.project(waiting=3)
        if case == "plan":
            fresh.db.orgs[ORG] = dataclasses.replace(fresh.orgs.get(ORG), plan=Plan.TEAM)
        elif case == "mapping":
            fresh.project_service.replace_mapping(r, [], None)
        elif case == "limit":
            fresh.orgs.set_remaining(ORG, 0)
        else:
            fresh.tasks.move(r, [f"t{i:04d}" for i in range(3)], _waiting_to_backlog())
        # When start is asked for, confirmed
        with pytest.raises(error) as raised:
            fresh.run_service.start(r, confirm=True)
        # Then the reason is named, and no run or execution exists
        assert words in str(raised.value)
        assert fresh.runs.latest(r) is None
        assert fresh.orchestrator.started == []
    assert world.run_service.start(ref, confirm=True).started


def _waiting_to_backlog() -> Move:
    from prelabel.domain.entities import LabelingState

    return Move(LabelingState.WAITING, LabelingState.BACKLOG)


def test_a_short_limit_asks_for_confirmation_before_anything_starts() -> None:
    # Given 10 eligible tasks and 4 units left
    world = World()
    ref = world.project(waiting=10, limit=4)
    # When start is asked for without confirming
    outcome = world.run_service.start(ref, confirm=False)
    # Then it says "only 4 of 10" and starts nothing; confirmed, it starts
    assert outcome.confirmation_required and not outcome.started
    assert outcome.message.startswith("only 4 of 10 images will be pre-labeled")
    assert world.orchestrator.started == []
    confirmed = world.run_service.start(ref, confirm=True)
    assert confirmed.started and (confirmed.will_label, confirmed.eligible) == (4, 10)


def test_start_launches_one_execution_named_after_the_run_and_a_second_start_reports_it() -> None:
    # Given a project ready to start
    world = World()
    ref = world.project(waiting=5)
    # When start is called twice
    first = world.run_service.start(ref, confirm=True)
    second = world.run_service.start(ref, confirm=True)
    # Then one execution runs, named after the run, and the second answer is that run
    assert first.run is not None
    assert world.orchestrator.started == [
        (first.run.run_id, {"orgId": ORG, "projectId": ref.project_id, "runId": first.run.run_id})
    ]
    assert second.already_active and second.run and second.run.run_id == first.run.run_id
    assert first.run.execution_arn == f"arn:exec:{first.run.run_id}"


def test_a_workflow_that_does_not_start_leaves_a_failed_run_and_no_active_one() -> None:
    # Given an engine that refuses the execution
    world = World()
    world.orchestrator.refuse_start = True
    ref = world.project(waiting=5)
    # When start is called
    with pytest.raises(StorageError):
        world.run_service.start(ref, confirm=True)
    # Then the run is FAILED with the reason, and the project can start again
    run = world.runs.latest(ref)
    assert run is not None and run.status is RunStatus.FAILED
    assert run_message(run) == "the workflow did not start: 0 pre-labeled, 0 failed, 5 left"
    assert world.projects.get(ref).active_run_id is None


def test_prepare_writes_batches_of_eligible_tasks_in_task_order() -> None:
    # Given 10 WAITING (one already pre-labeled) and 2 BACKLOG tasks, batches of 4
    world = World()
    ref = world.project(waiting=10, backlog=2)
    world.db.prelabels[(ref, "t0003")] = _done()
    world.db.counter(ref)["eligible"] -= 1
    run_id = world.run_service.start(ref, confirm=True).run.run_id  # type: ignore[union-attr]
    # When Prepare runs
    world.prepare(ref, run_id)
    # Then the manifest holds the 9 eligible tasks in batches of 4, and the run's total is 9
    batches = world.batches_of(run_id)
    assert [b.task_ids for b in batches] == [
        ("t0000", "t0001", "t0002", "t0004"),
        ("t0005", "t0006", "t0007", "t0008"),
        ("t0009",),
    ]
    assert [b.batch_no for b in batches] == [0, 1, 2]
    assert world.runs.get(ref, run_id).counters.total == 9


def _done():  # type: ignore[no-untyped-def]
    from prelabel.domain.entities import PrelabelState
    from tests.unit.fakes.store import Prelabel

    return Prelabel(PrelabelState.DONE, "run_old")


def test_a_console_start_with_a_project_id_only_creates_its_run_in_prepare() -> None:
    # Given a project, and an execution started from the console with {"projectId": ...}
    world = World()
    ref = world.project(waiting=6)
    # When Prepare runs for it (the execution's name becomes the run id)
    world.run_service.prepare(
        project_id=ref.project_id,
        org_id=None,
        execution_name="console-1",
        execution_arn="arn:exec:console-1",
    )
    # Then the run exists, active, adopting the execution, with its manifest
    run = world.runs.get(ref, "console-1")
    assert run.status is RunStatus.RUNNING and run.execution_arn == "arn:exec:console-1"
    assert world.projects.get(ref).active_run_id == "console-1"
    assert sum(len(b.task_ids) for b in world.batches_of("console-1")) == 6
    assert world.orchestrator.started == []


def test_stop_answers_the_final_figures_and_stops_the_execution() -> None:
    # Given a run with one of its three batches done
    world = World()
    ref = world.project(waiting=10, limit=100)
    run_id = world.run_service.start(ref, confirm=True).run.run_id  # type: ignore[union-attr]
    world.prepare(ref, run_id)
    world.worker.label_batch(world.batches_of(run_id)[0])
    # When the user stops it, and the other batches arrive afterwards
    stopped = world.run_service.stop(ref)
    for item in world.batches_of(run_id)[1:]:
        world.worker.label_batch(item)
    # Then the stop's answer is STOPPED with 4 labeled, and it stays so; nothing more charged
    assert stopped.status is RunStatus.STOPPED
    assert (stopped.counters.labeled, stopped.counters.left) == (4, 6)
    assert world.runs.get(ref, run_id) == stopped
    assert world.orgs.remaining(ORG) == 96
    assert world.orchestrator.stopped == [f"arn:exec:{run_id}"]
    assert run_message(stopped) == "stopped: 4 pre-labeled, 0 failed, 6 left for later"
    # And the project is free: a new run continues with the 6 left
    again = world.run_service.start(ref, confirm=True)
    assert again.started and again.eligible == 6


def test_progress_reads_finish_a_run_whose_execution_was_stopped_elsewhere() -> None:
    # Given a running run whose execution was aborted from the console
    world = World()
    ref = world.project(waiting=4)
    run = world.run_service.start(ref, confirm=True).run
    assert run is not None and run.execution_arn
    world.orchestrator.states[run.execution_arn] = "ABORTED"
    # When its progress is read
    current = world.run_service.current(ref)
    # Then it is STOPPED and the project has no active run
    assert current is not None and current.status is RunStatus.STOPPED
    assert world.projects.get(ref).active_run_id is None


@pytest.mark.parametrize(
    ("limit", "detector_fails", "message"),
    [
        (100, False, "4 images pre-labeled, 0 failed"),
        (3, False, "the AI-assistance limit ran out: 3 pre-labeled, 1 not pre-labeled"),
        (100, True, "0 pre-labeled, 0 failed, 4 not processed (the detector kept failing"),
    ],
)
def test_finish_gives_the_run_its_final_status_and_message_once(
    limit: int, detector_fails: bool, message: str
) -> None:
    # Given a run of 4 tasks processed to its end (or not, when the detector kept failing)
    world = World()
    world.detector.fail = detector_fails
    ref = world.project(waiting=4, limit=limit)
    run_id = world.run_service.start(ref, confirm=True).run.run_id  # type: ignore[union-attr]
    world.prepare(ref, run_id)
    if not detector_fails:
        world.run_all(run_id)
    # When Finish runs, twice (the state machine's step and a retry)
    first = world.run_service.finish(ref, run_id, Ending.SUCCEEDED)
    second = world.run_service.finish(ref, run_id, Ending.FAILED)
    # Then the run is COMPLETED with the message, and the repeat changed nothing
    assert first is not None and first.status is RunStatus.COMPLETED
    assert (run_message(first) or "").startswith(message)
    assert second == first


def test_history_lists_the_projects_runs_newest_first() -> None:
    # Given two runs of a project, the first stopped
    world = World()
    ref = world.project(waiting=8)
    first = world.run_service.start(ref, confirm=True).run
    world.run_service.stop(ref)
    second = world.run_service.start(ref, confirm=True).run
    assert first and second
    # When its history is read
    runs = world.run_service.history(ref)
    # Then the newest comes first; another organization's project does not exist
    assert [r.run_id for r in runs] == [second.run_id, first.run_id]
    with pytest.raises(Exception, match="not found"):
        world.run_service.history(ProjectRef("other-org", ref.project_id))
