"""The reshard job over the fakes: who may start it, what it refuses while it runs, repeats,
a failed job taken over. (Where the items go, and counts through a crashed slice, are
DynamoDB's to show: tests/integration/jobs/test_reshard_job.py.)"""

from __future__ import annotations

import dataclasses

import pytest

from prelabel.domain.dataset_sources import DatasetSource
from prelabel.domain.entities import LabelingState
from prelabel.domain.errors import Conflict
from prelabel.domain.jobs import JobKind, JobStatus
from prelabel.ports.tasks import Move, Sharding
from prelabel.services.projects import MappingRowInput
from tests.unit.jobs.conftest import BUCKET, JobWorld

TO_WAITING = Move(LabelingState.BACKLOG, LabelingState.WAITING)


def _legacy_project(w: JobWorld, n: int) -> None:
    w.images("acme/cam/", n)
    _, job = w.dataset_service.connect(w.locs, w.ref, DatasetSource(BUCKET, prefix="acme/cam/"))
    w.loop.run(job)
    w.db.sharding[w.ref] = Sharding(None)


def test_a_legacy_projects_tasks_move_in_slices_and_the_project_is_sharded(
    w: JobWorld,
) -> None:
    # Given a legacy project of 20 tasks (a slice moves 6)
    _legacy_project(w, 20)
    # When its tasks are moved to shards
    job = w.reshard_service.start(w.ref)
    ended = w.loop.run(job)
    # Then the job moved all 20 in 4 slices, and the project is sharded
    assert job.kind is JobKind.RESHARD and job.total == 20
    assert ended.status is JobStatus.SUCCEEDED and ended.result == {"moved": 20}
    assert len(w.loop.steps[ended.job_id]) == 4
    assert w.tasks.sharding(w.ref) == Sharding(16)
    # And asking again is refused: there is nothing left to move
    with pytest.raises(Conflict, match="spread over 16 shards already"):
        w.reshard_service.start(w.ref)


def test_while_the_tasks_move_no_run_and_no_task_write_goes_and_repeats_get_the_job(
    w: JobWorld,
) -> None:
    # Given a legacy project of 10 WAITING tasks, mapped, whose tasks a started job is moving
    _legacy_project(w, 10)
    w.tasks.move(w.ref, w.tasks.ids_in_state(w.ref, LabelingState.BACKLOG), TO_WAITING)
    w.project_service.replace_mapping(w.ref, [MappingRowInput("car", "veh", None)], 0.5)
    job = w.reshard_service.start(w.ref)
    # When the same request comes again; Then it answers with that job
    assert w.reshard_service.start(w.ref) == job
    # And a run is refused, naming the job; a move of named tasks too
    with pytest.raises(Conflict, match=job.job_id):
        w.run_service.start(w.ref, confirm=True)
    ids = list(w.tasks.ids_in_state(w.ref, LabelingState.WAITING))
    with pytest.raises(Conflict, match=job.job_id):
        w.task_service.move(
            w.ref, source=LabelingState.WAITING, target=LabelingState.BACKLOG, task_ids=ids[:2]
        )
    # And a job moving all tasks ends FAILED at its first slice, saying why, moving nothing
    move = w.task_service.move_all(
        w.ref, source=LabelingState.WAITING, target=LabelingState.BACKLOG
    )
    failed = w.loop.run(move)  # type: ignore[arg-type]
    assert failed.status is JobStatus.FAILED and job.job_id in str(failed.error)
    assert w.tasks.counts(w.ref).by_state[LabelingState.WAITING] == 10
    # And once it has ended, a run goes again
    w.loop.run(job)
    assert w.run_service.start(w.ref, confirm=True).started


def test_it_is_refused_while_a_run_is_active(w: JobWorld) -> None:
    # Given a legacy project with an active run
    _legacy_project(w, 3)
    project = w.projects.get(w.ref)
    w.db.projects[w.ref] = dataclasses.replace(project, active_run_id="run_1")
    # When its tasks are to move to shards; Then 409, and nothing started
    with pytest.raises(Conflict, match="run is active"):
        w.reshard_service.start(w.ref)
    assert w.tasks.sharding(w.ref) == Sharding(None)
    assert not [j for j in w.jobs.recent(w.ref, 10) if j.kind is JobKind.RESHARD]


def test_a_job_that_ended_without_finishing_is_taken_over_by_the_next(w: JobWorld) -> None:
    # Given a legacy project whose reshard job failed after its first slice
    _legacy_project(w, 20)
    first = w.reshard_service.start(w.ref)
    w.job_runner.step(w.ref, first.job_id, "")
    w.job_service.fail(first, "stopped from the console")
    assert w.tasks.sharding(w.ref) == Sharding(None, first.job_id)
    # When the move is asked for again
    second = w.reshard_service.start(w.ref)
    ended = w.loop.run(second)
    # Then a new job takes over and moves the rest; the project is sharded
    assert second.job_id != first.job_id
    assert ended.status is JobStatus.SUCCEEDED and ended.result == {"moved": 14}
    assert w.tasks.sharding(w.ref) == Sharding(16)
