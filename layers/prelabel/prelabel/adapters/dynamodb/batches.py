"""A batch's tasks, its one commit, and the crash notes of retried batches, on DynamoDB.

The commit is one TransactWriteItems (see BatchStore.commit): the batch's receipt (absent
before), each task's pre-label item (absent before: once only), the run's counters (condition:
the run is still RUNNING, so nothing lands after a stop), the organization's `remaining -= k`
(condition `remaining >= k`) and the counters item of each shard the batch's tasks are in (a
run's batches mostly hold one shard's tasks, see task_lists.eligible_ids). Either all of it
happens or none.

What one pre-labeled image costs, in write units: its pre-label put (2, transactional, under
1 KB), plus its share of the batch's four fixed items (receipt, run, limit, counters: 8 per
batch). No task item is touched. A pre-label its review priority puts ahead of "the rest" also
carries `q`, its entry in the sparse review index (1 unit, keys only; review_queue.py).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from prelabel.adapters.dynamodb.counts import counter_actions, counts_item
from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.keys import Shard
from prelabel.adapters.dynamodb.label_codec import encode_labels, encode_model
from prelabel.adapters.dynamodb.models import (
    BatchReceiptModel,
    CrashNoteModel,
    OrganizationModel,
    PrelabelModel,
    RunModel,
)
from prelabel.adapters.dynamodb.review_queue import queue_entry
from prelabel.adapters.dynamodb.shards import Layout, Layouts
from prelabel.adapters.dynamodb.task_items import prelabels_of, tasks_by_id
from prelabel.adapters.dynamodb.transact import Tag, Transaction
from prelabel.domain.entities import LabelingState, PrelabelState, ProjectRef, RunStatus
from prelabel.domain.ids import now_iso
from prelabel.ports.labeling import (
    BatchCommit,
    BatchStore,
    CommitResult,
    CrashLog,
    Suspect,
    TaskImage,
)

REASON_MAX = 500


class DynamoBatchStore(BatchStore):
    def __init__(self, connection: Connection, layouts: Layouts | None = None) -> None:
        self._connection = connection
        self._layouts = layouts or Layouts()

    def batch_committed(self, run_id: str, batch_no: int) -> bool:
        key, batch = BatchReceiptModel.key(run_id, batch_no)
        try:
            with storage_errors("read batch receipt"):
                # The stored name: a projection of the Python name found nothing, ever.
                BatchReceiptModel.get(
                    key,
                    batch,
                    consistent_read=True,
                    attributes_to_get=[BatchReceiptModel.batch.attr_name],
                )
        except DoesNotExist:
            return False
        return True

    def batch_images(self, ref: ProjectRef, task_ids: Sequence[str]) -> list[TaskImage]:
        if not task_ids:
            return []
        layout = self._layouts.of(ref)
        tasks = tasks_by_id(layout, task_ids)
        labeled = prelabels_of(layout, task_ids, keys_only=True)
        result = []
        for task_id in task_ids:  # keep the manifest's order
            t = tasks.get(task_id)
            if t is None or t.state != LabelingState.WAITING.value or task_id in labeled:
                continue
            result.append(TaskImage(task_id, t.bucket, t.image_key))
        return result

    def commit(self, batch: BatchCommit) -> CommitResult:
        item = batch.item
        ref = item.ref
        k = len(batch.done)
        tx = Transaction(self._connection, token=_token(batch))
        receipt_key, batch_key = BatchReceiptModel.key(item.run_id, item.batch_no)
        tx.put(
            ("receipt", ""),
            BatchReceiptModel(receipt_key, batch_key, labeled=k, committed_at=now_iso()),
            condition=BatchReceiptModel.batch_key.does_not_exist(),
        )
        layout = self._layouts.of(ref)
        for prelabel in _prelabels(batch, layout):
            # Once only: a task's pre-label is written by one commit, ever.
            tx.put(
                ("task", prelabel.task_id),
                prelabel,
                condition=PrelabelModel.task_id.does_not_exist(),
            )
        run_actions: list[Action] = [
            RunModel.labeled.add(k),
            RunModel.failed.add(len(batch.failed)),
            RunModel.skipped_quota.add(batch.skipped_quota),
            RunModel.total.add(-batch.withdrawn),
        ]
        if batch.skipped_quota:
            run_actions.append(RunModel.quota_exhausted.set(True))
        tx.update(
            ("run", ""),
            RunModel(ref.key, item.run_id),
            run_actions,
            condition=RunModel.status == RunStatus.RUNNING.value,
        )
        if k:
            tx.update(
                ("quota", ""),
                OrganizationModel(item.org_id),
                [OrganizationModel.remaining.add(-k)],
                condition=OrganizationModel.remaining >= k,
            )
        for shard, deltas in _shard_deltas(batch, layout).items():
            tx.update(("counts", str(shard.n)), counts_item(shard), counter_actions(deltas))
        failed_tags = tx.commit("commit batch")
        if not failed_tags:
            return CommitResult(committed=True)
        return _refused(failed_tags, item.org_id)


def _prelabels(batch: BatchCommit, layout: Layout) -> list[PrelabelModel]:
    """Each task's pre-label, in its shard: DONE with its boxes, or FAILED with its reason."""
    run_id = batch.item.run_id
    model = encode_model(*batch.model)
    return [
        PrelabelModel(
            layout.home(d.task_id).outcome_key(PrelabelState.DONE),
            d.task_id,
            run_id=run_id,
            width=d.width,
            height=d.height,
            model=model,
            labels=encode_labels(d.labels),
            review=queue_entry(d.review, d.task_id),
        )
        for d in batch.done
    ] + [
        PrelabelModel(
            layout.home(f.task_id).outcome_key(PrelabelState.FAILED),
            f.task_id,
            run_id=run_id,
            reason=f.reason[:REASON_MAX],
        )
        for f in batch.failed
    ]


def _shard_deltas(batch: BatchCommit, layout: Layout) -> dict[Shard, Counter[str]]:
    """Each shard's counters change: pre-labeled or failed up, eligible down."""
    deltas: dict[Shard, Counter[str]] = {}
    outcomes = [(d.task_id, "prelabeled") for d in batch.done] + [
        (f.task_id, "failed") for f in batch.failed
    ]
    for task_id, counter in outcomes:
        shard_deltas = deltas.setdefault(layout.home(task_id), Counter())
        shard_deltas[counter] += 1
        shard_deltas["eligible"] -= 1
    return deltas


def _refused(failed_tags: list[Tag], org_id: str) -> CommitResult:
    """Why the transaction was cancelled, from the tags of the conditions that failed."""
    kinds = {kind for kind, _ in failed_tags}
    if "receipt" in kinds:
        return CommitResult(committed=False, already_committed=True)
    if "run" in kinds:
        return CommitResult(committed=False, run_closed=True)
    quota_left = None
    if "quota" in kinds:
        with storage_errors("read remaining limit"):
            quota_left = int(OrganizationModel.get(org_id, consistent_read=True).remaining)
    taken = tuple(ident for kind, ident in failed_tags if kind == "task")
    return CommitResult(committed=False, quota_left=quota_left, taken_task_ids=taken)


def _token(batch: BatchCommit) -> str:
    """Same content, same token: DynamoDB then applies a resent request only once."""
    parts = [
        batch.item.run_id,
        str(batch.item.batch_no),
        ",".join(d.task_id for d in batch.done),
        ",".join(f.task_id for f in batch.failed),
        str(batch.skipped_quota),
        str(batch.withdrawn),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:36]


class DynamoCrashLog(CrashLog):
    def suspect(self, run_id: str, batch_no: int) -> Suspect | None:
        try:
            with storage_errors("read crash note"):
                note = CrashNoteModel.get(
                    *CrashNoteModel.key(run_id, batch_no), consistent_read=True
                )
        except DoesNotExist:
            return None
        return Suspect(note.task_id, int(note.crashes))

    def note(self, run_id: str, batch_no: int, suspect: Suspect) -> None:
        key, batch = CrashNoteModel.key(run_id, batch_no)
        with storage_errors("write crash note"):
            CrashNoteModel(key, batch, task_id=suspect.task_id, crashes=suspect.crashes).save()

    def clear(self, run_id: str, batch_no: int) -> None:
        with storage_errors("clear crash note"):
            CrashNoteModel(*CrashNoteModel.key(run_id, batch_no)).delete()
