"""Move-all, disconnect and reconnect as jobs over the fakes: bounded slices, exact counts
even when a slice runs twice, repeats answered with the running job, runs respected."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from prelabel.domain.dataset_sources import DatasetSource
from prelabel.domain.entities import DatasetStatus, LabelingState, PrelabelState, ProjectRef
from prelabel.domain.errors import Conflict
from prelabel.domain.jobs import JobKind, JobStatus
from prelabel.ports.tasks import Move
from tests.unit.fakes.store import MemoryTasks, Prelabel
from tests.unit.jobs.conftest import BUCKET, JobWorld


def _dataset(w: JobWorld, n: int, prefix: str = "acme/cam/") -> str:
    w.images(prefix, n)
    dataset, job = w.dataset_service.connect(w.locs, w.ref, DatasetSource(BUCKET, prefix=prefix))
    w.loop.run(job)
    return dataset.dataset_id


def _move_all(w: JobWorld, source: LabelingState, target: LabelingState) -> object:
    return w.task_service.move_all(w.ref, source=source, target=target)


class CrashAfterOneChunk(MemoryTasks):
    """Moves the first 2 tasks of one call, then dies: a slice killed after part of its writes."""

    def __init__(self, w: JobWorld) -> None:
        super().__init__(w.db)
        self.crashed = False

    def move(self, ref: ProjectRef, task_ids: Sequence[str], move: Move) -> list[str]:
        if not self.crashed and len(task_ids) > 2:
            self.crashed = True
            super().move(ref, task_ids[:2], move)
            raise RuntimeError("died mid-slice")
        return super().move(ref, task_ids, move)


def test_move_all_moves_every_task_in_slices_and_counts_exactly_through_a_crash(
    w: JobWorld,
) -> None:
    # Given 20 BACKLOG tasks, and a move slice (6 tasks) that dies after moving 2
    _dataset(w, 20)
    w.job_runner.context.tasks = CrashAfterOneChunk(w)
    # When all BACKLOG tasks are moved to WAITING
    job = _move_all(w, LabelingState.BACKLOG, LabelingState.WAITING)
    assert job.kind is JobKind.MOVE and job.total == 20  # type: ignore[attr-defined]
    ended = w.loop.run(job)  # type: ignore[arg-type]
    # Then every task is WAITING and eligible, and the job counted each move once
    counts = w.tasks.counts(w.ref)
    assert counts.by_state[LabelingState.WAITING] == 20 == counts.eligible
    assert counts.by_state[LabelingState.BACKLOG] == 0
    assert ended.status is JobStatus.SUCCEEDED and ended.result == {"moved": 20}
    # And a job this small is one slice over every shard: ceil(20 / 6) steps, and the crashed
    # one again
    assert len(w.db.plans[ended.job_id][0]) == 1
    assert len(w.loop.slice_steps[ended.job_id]) == 4


def test_move_all_repeats_answer_with_the_running_job_and_runs_are_respected(
    w: JobWorld,
) -> None:
    # Given 5 WAITING tasks and a move-all back to BACKLOG still running
    _dataset(w, 5)
    w.loop.run(_move_all(w, LabelingState.BACKLOG, LabelingState.WAITING))  # type: ignore[arg-type]
    job = _move_all(w, LabelingState.WAITING, LabelingState.BACKLOG)
    # When the same request comes again; Then it answers with that job, and starts nothing
    assert _move_all(w, LabelingState.WAITING, LabelingState.BACKLOG) == job
    assert len(w.job_orchestrator.started) == 3
    # When a run starts before the job's first slice; Then the slice is refused by the write
    # itself and the job ends FAILED saying why, with the tasks still WAITING
    project = w.projects.get(w.ref)
    w.db.projects[w.ref] = dataclasses.replace(project, active_run_id="run_1")
    ended = w.loop.run(job)  # type: ignore[arg-type]
    assert ended.status is JobStatus.FAILED and "run is active" in str(ended.error)
    assert w.tasks.counts(w.ref).by_state[LabelingState.WAITING] == 5
    # And while the run is active, a new move out of WAITING is refused at once
    with pytest.raises(Conflict, match="run is active"):
        _move_all(w, LabelingState.WAITING, LabelingState.BACKLOG)


def test_disconnect_removes_tasks_and_pre_labels_in_slices_then_the_dataset(w: JobWorld) -> None:
    # Given a dataset of 10 tasks, two of them pre-labeled, and another dataset of 3
    ds = _dataset(w, 10)
    other = _dataset(w, 3, "acme/other/")
    ids = sorted(t.task_id for t in w.db.tasks.values() if t.dataset_id == ds)
    for task_id, outcome in zip(ids[:2], (PrelabelState.DONE, PrelabelState.FAILED), strict=True):
        w.db.prelabels[(w.ref, task_id)] = Prelabel(outcome, "run_1")
        w.db.counter(w.ref)["prelabeled" if outcome is PrelabelState.DONE else "failed"] += 1
    # When it is disconnected (4 tasks a slice)
    job = w.dataset_service.disconnect(w.ref, ds)
    during, _ = w.dataset_service.get(w.ref, ds)
    ended = w.loop.run(job)
    # Then it was REMOVING meanwhile, and now its tasks, their pre-labels and the dataset are
    # gone, the other dataset's tasks stay, and the counters say so
    assert during.status is DatasetStatus.REMOVING
    assert ended.status is JobStatus.SUCCEEDED and ended.result == {"removed": 10}
    assert (ended.done, ended.total) == (10, 10)
    assert [d.dataset_id for d in w.dataset_service.list(w.ref)] == [other]
    counts = w.tasks.counts(w.ref)
    assert (counts.total, counts.prelabeled, counts.failed) == (3, 0, 0)
    assert w.db.prelabels == {}
    assert len(w.loop.slice_steps[job.job_id]) == 3


def test_a_run_starting_during_a_disconnect_stops_it_with_the_tasks_left(w: JobWorld) -> None:
    # Given a disconnect whose first slice ran, then a run that started
    ds = _dataset(w, 10)
    job = w.dataset_service.disconnect(w.ref, ds)
    planned = w.job_runner.step(w.ref, job.job_id, "")
    assert planned.plan is not None
    w.loop.slice_once(w.ref, job.job_id, planned.plan)
    project = w.projects.get(w.ref)
    w.db.projects[w.ref] = dataclasses.replace(project, active_run_id="run_1")
    # When the slice's next step runs, then the job's, and the job ends
    w.loop.slice_once(w.ref, job.job_id, planned.plan)
    merged = w.job_runner.step(w.ref, job.job_id, planned.cursor)
    ended = w.job_finisher.finish(w.ref, job.job_id, merged.failure)
    # Then the run's tasks stay: the job is FAILED, the dataset FAILED saying how many are left
    dataset, _ = w.dataset_service.get(w.ref, ds)
    assert ended.status is JobStatus.FAILED and ended.result == {"removed": 4}
    assert dataset.status is DatasetStatus.FAILED and dataset.task_count == 6
    assert dataset.failure is not None and "(6 tasks left)" in dataset.failure
    # And a new disconnect is refused while the run is active
    with pytest.raises(Conflict, match="run is active"):
        w.dataset_service.disconnect(w.ref, ds)


def test_disconnecting_during_an_import_stops_the_import_first(w: JobWorld) -> None:
    # Given an import of 30 images whose first slice ran
    w.images("acme/cam/", 30)
    dataset, importing = w.dataset_service.connect(
        w.locs, w.ref, DatasetSource(BUCKET, prefix="acme/cam/")
    )
    planned = w.job_runner.step(w.ref, importing.job_id, "")
    assert planned.plan is not None
    w.loop.slice_once(w.ref, importing.job_id, planned.plan)
    # When the dataset is disconnected
    removing = w.dataset_service.disconnect(w.ref, dataset.dataset_id)
    # Then the import's execution is stopped and the import ended FAILED
    assert w.job_orchestrator.stopped == [importing.execution_arn]
    assert w.jobs.get(w.ref, importing.job_id).status is JobStatus.FAILED
    # And a late step of the stopped import's slice, or of the job, writes nothing (the
    # dataset is not its own now)
    assert w.loop.slice_once(w.ref, importing.job_id, planned.plan).done
    late = w.job_runner.step(w.ref, importing.job_id, planned.cursor)
    assert late.done and late.failure is None
    # And the disconnect removes what the import had written, then the dataset
    ended = w.loop.run(removing)
    assert ended.result == {"removed": 10}
    assert w.db.tasks == {} and w.db.datasets == {}


def test_reconnect_replaces_the_tasks_and_a_repeat_answers_with_its_job(w: JobWorld) -> None:
    # Given a dataset of 9 tasks, 4 of them WAITING, one pre-labeled
    ds = _dataset(w, 9)
    old = sorted(t.task_id for t in w.db.tasks.values())
    w.tasks.move(w.ref, old[:4], Move(LabelingState.BACKLOG, LabelingState.WAITING))
    w.db.prelabels[(w.ref, old[0])] = Prelabel(PrelabelState.DONE, "run_1")
    w.db.counter(w.ref)["prelabeled"] += 1
    w.db.counter(w.ref)["eligible"] -= 1
    # When it is reconnected, and the same request comes again while it runs
    job = w.dataset_service.reconnect(w.locs, w.ref, ds)
    assert w.dataset_service.reconnect(w.locs, w.ref, ds) == job
    ended = w.loop.run(job)
    dataset, _ = w.dataset_service.get(w.ref, ds)
    # Then there are 9 fresh BACKLOG tasks of the next generation, none of the old ones, and
    # the old pre-label is gone
    new = sorted(t.task_id for t in w.db.tasks.values())
    assert ended.status is JobStatus.SUCCEEDED and ended.result["tasks"] == 9
    assert dataset.generation == 1 and dataset.task_count == 9
    assert len(new) == 9 and not set(new) & set(old)
    counts = w.tasks.counts(w.ref)
    assert counts.by_state[LabelingState.BACKLOG] == 9
    assert (counts.eligible, counts.prelabeled) == (0, 0)
    assert w.db.prelabels == {}


def test_reconnect_waits_for_a_running_job_and_a_run(w: JobWorld) -> None:
    # Given a dataset, and a disconnect of it still running
    ds = _dataset(w, 3)
    w.dataset_service.disconnect(w.ref, ds)
    # When it is reconnected; Then 409 naming the running job
    with pytest.raises(Conflict, match="busy"):
        w.dataset_service.reconnect(w.locs, w.ref, ds)
