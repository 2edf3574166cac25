"""Quality reports on DynamoDB: the partition `<project>#quality` holds, per scope, a header
item (`<scope>#`: the summary, the scope's task count and evidence floors) and one item per
class (`<scope>#<class>`: its tally), so a scope is read with one query.

A new report is written classes first and headers last, then the items of earlier reports
are deleted; a read keeps the class items of its header's job only, so it never mixes two
reports, even while one replaces the other.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.keys import quality_key
from prelabel.adapters.dynamodb.models import QualityItemModel
from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import StorageError
from prelabel.ports.quality_reports import QualityReports, QualitySummary, StoredScope
from prelabel.quality import ClassTally, ScopeTally

# DynamoDB's item limit is 400 KB; a class tally is at most ~25 KB (1000 score bins and the
# classes it was confused with), so this is only ever reached by a bug.
MAX_BODY_BYTES = 350_000


def _scope_prefix(scope_key: str) -> str:
    """The scope key with `%` and `#` escaped, then `#`: no scope's items start another's."""
    return scope_key.replace("%", "%25").replace("#", "%23") + "#"


def _json(doc: Any, what: str) -> str:
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    if len(text.encode()) > MAX_BODY_BYTES:
        raise StorageError(f"{what}: {len(text.encode())} bytes, over {MAX_BODY_BYTES}")
    return text


def summary_from(doc: Mapping[str, Any]) -> QualitySummary:
    values = dict(doc)
    values["scopes"] = tuple(values.get("scopes", ()))
    return QualitySummary(**values)


class DynamoQualityReports(QualityReports):
    def replace(
        self,
        ref: ProjectRef,
        summary: QualitySummary,
        scopes: Mapping[str, ScopeTally],
        floors: Mapping[str, Mapping[str, float]],
    ) -> None:
        key, job = quality_key(ref), summary.job_id
        headers, classes = [], []
        for scope_key, tally in scopes.items():
            prefix = _scope_prefix(scope_key)
            for cls, class_tally in tally.classes.items():
                body = _json(class_tally.to_dict(), f"the tally of {cls} in {scope_key}")
                classes.append(QualityItemModel(key, prefix + cls, job_id=job, body=body))
            header = {
                "summary": dataclasses.asdict(summary),
                "tasks": tally.tasks,
                "floors": dict(floors.get(scope_key, {})),
            }
            headers.append(QualityItemModel(key, prefix, job_id=job, body=_json(header, prefix)))
        with storage_errors("write quality report"), QualityItemModel.batch_write() as batch:
            for item in classes + headers:
                batch.save(item)
        stale = [i for i in self._items(key, None, keys_only=True) if i.job_id != job]
        with (
            storage_errors("remove an earlier quality report"),
            QualityItemModel.batch_write() as batch,
        ):
            for item in stale:
                batch.delete(item)

    def read(self, ref: ProjectRef, scope_key: str) -> StoredScope | None:
        prefix = _scope_prefix(scope_key)
        items = list(self._items(quality_key(ref), prefix, keys_only=False))
        header = next((i for i in items if i.item == prefix), None)
        if header is None:
            return None
        doc = json.loads(header.body)
        classes = {
            i.item[len(prefix) :]: ClassTally.from_dict(json.loads(i.body))
            for i in items
            if i.item != prefix and i.job_id == header.job_id
        }
        return StoredScope(
            summary=summary_from(doc["summary"]),
            scope_key=scope_key,
            tally=ScopeTally(int(doc["tasks"]), classes),
            floors={str(k): float(v) for k, v in doc.get("floors", {}).items()},
        )

    @staticmethod
    def _items(key: str, prefix: str | None, *, keys_only: bool) -> Iterator[QualityItemModel]:
        condition = None if prefix is None else QualityItemModel.item.startswith(prefix)
        options: dict[str, Any] = {"attributes_to_get": ["project_key", "task_id", "j"]}
        with storage_errors("read quality report"):
            yield from QualityItemModel.query(
                key,
                range_key_condition=condition,
                consistent_read=True,
                **(options if keys_only else {}),
            )
