"""Fakes of the reviewed-label ports over the in-memory database: reviewed labels with the
adapter's rules (a job's own image kept, another image of the same job a duplicate, another
job's labels replaced, a removed task's not written, the count changed with each write; stored
in MemoryDb, where deleting tasks deletes theirs), tasks by id with their pre-labels, the
working files and signed uploads over the fake S3, and quality reports."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import InvalidInput
from prelabel.domain.reviewed_labels import ReviewedCount, ReviewWrite, TaskReview
from prelabel.ports.quality_reports import QualityReports, QualitySummary, StoredScope
from prelabel.ports.reviewed_files import ReviewedFiles, SignedUpload
from prelabel.ports.reviewed_labels import ReviewedLabelStore, ReviewPage
from prelabel.ports.task_facts import (
    ImageKey,
    ImageKeyPage,
    PrelabelFacts,
    TaskFacts,
    TaskFinder,
)
from prelabel.quality import ScopeTally
from tests.unit.fakes.outside import MemoryObjects
from tests.unit.fakes.store import MemoryDb


@dataclass
class ReviewedDb:
    reports: dict[ProjectRef, dict[str, StoredScope]] = field(default_factory=dict)
    # Every put, in order (the tests count writes).
    puts: list[list[str]] = field(default_factory=list)


class MemoryReviewedLabels(ReviewedLabelStore):
    def __init__(self, db: MemoryDb, rdb: ReviewedDb) -> None:
        self.db = db
        self.rdb = rdb

    def put(self, ref: ProjectRef, reviews: Sequence[TaskReview]) -> ReviewWrite:
        with self.db.lock:
            self.db.refuse_while_resharding(ref)
            written, kept, dups, gone = [], [], [], []
            for r in reviews:
                if (ref, r.task_id) not in self.db.tasks:
                    gone.append(r.task_id)  # as the adapter's condition on the task item
                    continue
                old = self.db.reviews.get((ref, r.task_id))
                if old is not None and old.job_id == r.job_id:
                    (kept if old.source == r.source else dups).append(r.task_id)
                    continue
                self.db.reviews[(ref, r.task_id)] = r
                self.db.review_counter(ref).update(tasks=int(old is None), changes=1)
                written.append(r.task_id)
            self.rdb.puts.append(written)
            return ReviewWrite(tuple(written), tuple(kept), tuple(dups), tuple(gone))

    def get_many(self, ref: ProjectRef, task_ids: Sequence[str]) -> dict[str, TaskReview]:
        return {t: self.db.reviews[(ref, t)] for t in task_ids if (ref, t) in self.db.reviews}

    def page(self, ref: ProjectRef, after: str | None, limit: int) -> ReviewPage:
        ids = sorted(t for (r, t) in self.db.reviews if r == ref and (after is None or t > after))
        taken = ids[:limit]
        more = len(ids) > limit
        return ReviewPage([self.db.reviews[(ref, t)] for t in taken], taken[-1] if more else None)

    def count(self, ref: ProjectRef) -> ReviewedCount:
        """The counters, as the adapter reads its rvcounts items: not a count of the items, so
        a write that forgets to change them shows."""
        counter = self.db.review_counter(ref)
        return ReviewedCount(counter["tasks"], counter["changes"])


class MemoryTaskFinder(TaskFinder):
    def __init__(self, db: MemoryDb) -> None:
        self.db = db
        self.reads = 0

    def facts(self, ref: ProjectRef, task_ids: Sequence[str]) -> dict[str, TaskFacts]:
        self.reads += 1
        found = {}
        for t in dict.fromkeys(task_ids):
            task = self.db.tasks.get((ref, t))
            if task is None:
                continue
            p = self.db.prelabels.get((ref, t))
            facts = None
            if p is not None:
                version = p.model[1] if p.model else ""
                facts = PrelabelFacts(p.outcome, p.run_id, version, p.labels, p.width, p.height)
            found[t] = TaskFacts(t, task.dataset_id, task.bucket, task.image_key, facts)
        return found

    def image_keys(self, ref: ProjectRef, after: str | None, limit: int) -> ImageKeyPage:
        ids = sorted(t for (r, t) in self.db.tasks if r == ref and (after is None or t > after))
        taken = ids[:limit]
        keys = [
            ImageKey(t, self.db.tasks[(ref, t)].bucket, self.db.tasks[(ref, t)].image_key)
            for t in taken
        ]
        return ImageKeyPage(keys, taken[-1] if len(ids) > limit else None)


class MemoryReviewedFiles(ReviewedFiles):
    """Working files and uploads in the fake S3; a signed upload carries its policy (base64
    JSON, as S3's) so tests can read its conditions."""

    def __init__(self, objects: MemoryObjects, bucket: str) -> None:
        self.objects = objects
        self._bucket = bucket
        self.deleted: list[str] = []

    @property
    def bucket(self) -> str:
        return self._bucket

    def signed_upload(self, key: str, max_bytes: int, expires_in: int) -> SignedUpload:
        policy = {
            "expiration": time.time() + expires_in,
            "conditions": [
                ["content-length-range", 1, max_bytes],
                {"bucket": self._bucket},
                {"key": key},
            ],
        }
        fields = {"key": key, "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
        return SignedUpload(
            f"https://{self._bucket}.s3.example/", fields, self._bucket, key, max_bytes, expires_in
        )

    def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        body = self.objects.objects.get((bucket, key))
        if body is None:
            raise InvalidInput(f"key: s3://{bucket}/{key} cannot be read (NoSuchKey)", field="key")
        if len(body) > max_bytes:
            raise InvalidInput(f"key: s3://{bucket}/{key} holds {len(body):,} bytes", field="key")
        return body

    def put(self, key: str, data: bytes) -> None:
        self.objects.put(self._bucket, key, data)

    def get(self, key: str) -> bytes | None:
        return self.objects.objects.get((self._bucket, key))

    def delete_prefix(self, prefix: str) -> int:
        doomed = [
            k for (b, k) in self.objects.objects if b == self._bucket and k.startswith(prefix)
        ]
        for k in doomed:
            del self.objects.objects[(self._bucket, k)]
        self.deleted.append(prefix)
        return len(doomed)

    def names(self, prefix: str) -> list[str]:
        return sorted(
            k for (b, k) in self.objects.objects if b == self._bucket and k.startswith(prefix)
        )


class MemoryQualityReports(QualityReports):
    def __init__(self, rdb: ReviewedDb) -> None:
        self.rdb = rdb

    def replace(
        self,
        ref: ProjectRef,
        summary: QualitySummary,
        scopes: Mapping[str, ScopeTally],
        floors: Mapping[str, Mapping[str, float]],
    ) -> None:
        # Stored as their JSON, as the adapter does: what is read back is a copy.
        self.rdb.reports[ref] = {
            key: StoredScope(
                summary, key, ScopeTally.from_dict(tally.to_dict()), dict(floors.get(key, {}))
            )
            for key, tally in scopes.items()
        }

    def read(self, ref: ProjectRef, scope_key: str) -> StoredScope | None:
        return self.rdb.reports.get(ref, {}).get(scope_key)
