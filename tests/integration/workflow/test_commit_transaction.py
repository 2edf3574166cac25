"""The batch commit against DynamoDB Local: a short limit keeps what fits, a stopped run takes
nothing, a repeat is a no-op, a task pre-labeled meanwhile is dropped. No state machine here:
the worker's own commit over the real adapters."""

from __future__ import annotations

from prelabel.adapters.dynamodb.models import OrganizationModel, RunModel
from prelabel.container import Container
from prelabel.domain.entities import ProjectRef, Run, RunCounters, RunStatus
from prelabel.ports.labeling import BatchCommit, BatchItem, DoneTask
from prelabel.services.runs import snapshot_of
from tests.integration.plant import plant_prelabel
from tests.integration.workflow.conftest import make_project

RUN = "run_test"


def _batch(stack: Container, ref: ProjectRef, n: int) -> tuple[BatchItem, list[str]]:
    project = stack.projects.get(ref)
    run = Run(ref, RUN, RunStatus.RUNNING, RunCounters(total=n), "2026-11-29T00:00:00")
    assert stack.runs.create(run, snapshot_of(project, 32))
    ids = list(stack.tasks.eligible_ids(ref))[:n]
    assert len(stack.batches.batch_images(ref, ids)) == n
    return BatchItem(ref.org_id, ref.project_id, RUN, 0, tuple(ids)), ids


def _done(ids: list[str]) -> list[DoneTask]:
    return [DoneTask(i, (), 10, 10) for i in ids]


def _prelabel_states(stack: Container, ref: ProjectRef, ids: list[str]) -> list[str | None]:
    return [s.value if (s := stack.tasks.get(ref, i).prelabel_state) else None for i in ids]


def test_short_limit_commits_what_fits_and_leaves_the_rest(stack: Container) -> None:
    # Given 6 tasks ready to commit and only 4 units left (taken by others meanwhile)
    ref = make_project(stack, "acme", waiting=6, limit=100)
    item, ids = _batch(stack, ref, 6)
    OrganizationModel("acme").update(actions=[OrganizationModel.remaining.set(4)])
    batch = BatchCommit(item, model=("m", "1"), done=_done(ids))
    # When the batch commits
    assert stack.worker.commit(batch)
    # Then exactly 4 are DONE and charged, 2 untouched (still eligible), skipped for quota
    assert _prelabel_states(stack, ref, ids) == ["DONE"] * 4 + [None] * 2
    assert list(stack.tasks.eligible_ids(ref)) == ids[4:]
    assert stack.ledger.remaining("acme") == 0
    run = RunModel.get(ref.key, RUN)
    assert (int(run.total), int(run.labeled), int(run.skipped_quota)) == (6, 4, 2)
    assert run.quota_exhausted
    # And the project's counters moved with them
    counts = stack.tasks.counts(ref)
    assert (counts.eligible, counts.prelabeled) == (2, 4)


def test_a_stopped_run_commits_nothing(stack: Container) -> None:
    # Given a batch ready to commit, and the run stopped meanwhile
    ref = make_project(stack, "acme", waiting=3, limit=100)
    item, ids = _batch(stack, ref, 3)
    assert stack.runs.request_stop(ref, RUN)
    # When the batch commits
    result = stack.batches.commit(BatchCommit(item, model=("m", "1"), done=_done(ids)))
    # Then nothing is written: no label, no charge, the run's counters as they were
    assert result.run_closed and not result.committed
    assert _prelabel_states(stack, ref, ids) == [None, None, None]
    assert stack.ledger.remaining("acme") == 100
    assert stack.runs.get(ref, RUN).counters == RunCounters(total=3)
    assert stack.tasks.counts(ref).eligible == 3


def test_a_task_labeled_meanwhile_is_dropped_and_a_repeat_is_a_no_op(stack: Container) -> None:
    # Given 3 tasks ready to commit, one of which got a pre-label from elsewhere meanwhile
    ref = make_project(stack, "acme", waiting=3, limit=100)
    item, ids = _batch(stack, ref, 3)
    plant_prelabel(ref, ids[1])
    # When the batch commits, and then the same batch commits again (a retried invocation)
    assert stack.worker.commit(BatchCommit(item, model=("m", "1"), done=_done(ids)))
    again = stack.batches.commit(BatchCommit(item, model=("m", "1"), done=_done(ids)))
    # Then the other two are DONE and charged once; the taken one is not charged by this run
    assert _prelabel_states(stack, ref, ids) == ["DONE", "DONE", "DONE"]
    assert stack.ledger.remaining("acme") == 98
    assert again.already_committed
    # And the run counts the taken task out of its total, not as processed
    run = stack.runs.get(ref, RUN)
    assert (run.counters.total, run.counters.labeled, run.counters.failed) == (2, 2, 0)
