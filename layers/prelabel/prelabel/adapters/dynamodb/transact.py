"""One TransactWriteItems that knows which of its items a failed condition belongs to.

pynamodb sends a transaction's condition checks first, then deletes, puts and updates, each in
the order they were added, and DynamoDB's cancellation reasons follow the order sent. This
wrapper tags every item and maps the reasons back to the tags, so callers never count indexes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.domain.errors import Busy, StorageError

Tag = tuple[str, str]
CONDITION_FAILED = "ConditionalCheckFailed"
# At most this many items in one TransactWriteItems.
MAX_ITEMS = 100


class Transaction:
    def __init__(self, connection: Connection, token: str | None = None) -> None:
        self._connection = connection
        self._token = token
        self._ops: dict[str, list[tuple[Tag, Any]]] = {
            "check": [],
            "delete": [],
            "put": [],
            "update": [],
        }

    def __len__(self) -> int:
        return sum(len(ops) for ops in self._ops.values())

    def check(
        self,
        tag: Tag,
        model_cls: type[Model],
        hash_key: str,
        range_key: str | None,
        condition: Condition,
    ) -> None:
        self._ops["check"].append((tag, (model_cls, hash_key, range_key, condition)))

    def delete(self, tag: Tag, item: Model, condition: Condition | None = None) -> None:
        self._ops["delete"].append((tag, (item, condition)))

    def put(self, tag: Tag, item: Model, condition: Condition | None = None) -> None:
        self._ops["put"].append((tag, (item, condition)))

    def update(
        self, tag: Tag, item: Model, actions: Sequence[Action], condition: Condition | None = None
    ) -> None:
        self._ops["update"].append((tag, (item, list(actions), condition)))

    def commit(self, what: str) -> list[Tag]:
        """Write everything or nothing; the tags whose condition failed (empty: written)."""
        if len(self) > MAX_ITEMS:
            raise ValueError(f"{len(self)} items in one transaction; at most {MAX_ITEMS}")
        order: list[Tag] = []
        try:
            with (
                storage_errors(what),
                TransactWrite(connection=self._connection, client_request_token=self._token) as tx,
            ):
                for tag, (cls, hash_key, range_key, condition) in self._ops["check"]:
                    tx.condition_check(cls, hash_key, range_key, condition=condition)
                    order.append(tag)
                for tag, (item, condition) in self._ops["delete"]:
                    tx.delete(item, condition=condition)
                    order.append(tag)
                for tag, (item, condition) in self._ops["put"]:
                    tx.save(item, condition=condition)
                    order.append(tag)
                for tag, (item, actions, condition) in self._ops["update"]:
                    tx.update(item, actions=actions, condition=condition)
                    order.append(tag)
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            failed = [
                order[i]
                for i, reason in enumerate(reasons)
                if reason is not None and reason.code == CONDITION_FAILED and i < len(order)
            ]
            if failed:
                return failed
            codes = sorted(
                {r.code for r in reasons if r is not None and r.code not in (None, "None")}
            )
            if "TransactionConflict" in codes:
                raise Busy(f"{what}: a concurrent transaction held an item; try again") from exc
            raise StorageError(f"{what} failed: {', '.join(codes) or exc}") from exc
        return []
