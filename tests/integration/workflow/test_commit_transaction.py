"""The batch commit against DynamoDB Local: a short limit keeps what fits, a lost lease drops
only that task, a repeated commit is a no-op. No state machine here: the worker's own code."""

from __future__ import annotations

import time

from prelabel.adapters.dynamodb.models import OrganizationModel, RunModel, TaskModel
from prelabel.adapters.dynamodb.workflow import DynamoClaimStore
from prelabel.domain.entities import ProjectRef, Run, RunCounters, RunStatus
from prelabel.ports.workflow import BatchCommit, BatchItem, DoneTask
from prelabel.services.labeling import LabelingDeps, commit_batch
from prelabel.services.runs import snapshot_of
from prelabel.wiring import Ports
from tests.integration.workflow.conftest import make_project

RUN = "run_test"


def _claimed_batch(stack: Ports, ref: ProjectRef, n: int) -> tuple[BatchItem, DoneTask, list[str]]:
    project = stack.projects.get(ref)
    run = Run(
        ref,
        RUN,
        RunStatus.RUNNING,
        RunCounters(total=n),
        "2026-11-29T00:00:00",
        snapshot=snapshot_of(project, 32),
    )
    assert stack.run_deps.run_store.create(run)
    claims = stack.claims
    ids = claims.eligible_task_ids(ref)[:n]
    tasks = claims.eligible_images(ref, ids, RUN, time.time())
    assert len(claims.claim(ref, tasks, RUN, time.time(), 900)) == n
    item = BatchItem(ref.org_id, ref.project_id, RUN, 0, tuple(ids))
    return item, DoneTask(ids[0], (), 10, 10), ids


def _deps(stack: Ports) -> LabelingDeps:
    return stack.labeling_deps


def test_short_limit_commits_what_fits_and_releases_the_rest(stack: Ports) -> None:
    # Given 6 claimed tasks ready to commit and only 4 units left (taken by others meanwhile)
    ref = make_project(stack, "acme", waiting=6, limit=100)
    item, _, ids = _claimed_batch(stack, ref, 6)
    OrganizationModel("acme").update(actions=[OrganizationModel.remaining.set(4)])
    batch = BatchCommit(item, done=[DoneTask(i, (), 10, 10) for i in ids])
    # When the batch commits
    commit_batch(_deps(stack), batch)
    # Then exactly 4 are DONE and charged, 2 released untouched and counted skipped for quota
    tasks = {t.task_id: t for t in TaskModel.query(ref.key)}
    assert sum(1 for t in tasks.values() if t.prelabel_state == "DONE") == 4
    assert [i for i in ids if tasks[i].prelabel_state is None and tasks[i].eligible_key] == ids[4:]
    assert stack.ledger.remaining("acme") == 0
    run = RunModel.get(ref.key, RUN)
    assert (int(run.total), int(run.labeled), int(run.skipped_quota)) == (6, 4, 2)
    assert run.quota_exhausted
    assert not [t for t in tasks.values() if t.claim_run_id]


def test_lost_lease_drops_only_that_task_and_a_repeat_is_a_no_op(stack: Ports) -> None:
    # Given 3 claimed tasks, one of which another run took over after the lease expired
    ref = make_project(stack, "acme", waiting=3, limit=100)
    item, _, ids = _claimed_batch(stack, ref, 3)
    TaskModel(ref.key, ids[1]).update(actions=[TaskModel.claim_run_id.set("run_other")])
    batch = BatchCommit(item, done=[DoneTask(i, (), 10, 10) for i in ids])
    # When the batch commits, and then commits again (a retried invocation)
    commit_batch(_deps(stack), batch)
    again = DynamoClaimStore(stack.connection).commit(
        BatchCommit(item, done=[DoneTask(i, (), 10, 10) for i in ids])
    )
    # Then the other two are DONE and charged once; the taken one is not ours to label or charge
    tasks = {t.task_id: t for t in TaskModel.query(ref.key)}
    assert [tasks[i].prelabel_state for i in ids] == ["DONE", None, "DONE"]
    assert tasks[ids[1]].claim_run_id == "run_other"
    assert stack.ledger.remaining("acme") == 98
    assert again.already_committed
    # And the run counts the taken task as left, not as processed
    run = RunModel.get(ref.key, RUN)
    assert (int(run.total), int(run.labeled), int(run.failed), int(run.skipped_quota)) == (
        3,
        2,
        0,
        0,
    )
