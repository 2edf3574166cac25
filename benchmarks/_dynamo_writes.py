"""What DynamoDB bills for the writes a run sends: write units per item, per index, per kind.

Rules applied (DynamoDB's pricing and GSI pages):
- an item write costs ceil(size / 1 KB) units, the size being the larger of the item before
  and after the write; inside TransactWriteItems it costs twice that;
- a global secondary index is written when the write puts an item that has the index's key
  attributes (1), removes such an item (1), changes an index key value (2: delete + put),
  adds or removes the key attribute (1), or, for ALL/INCLUDE projections, changes a projected
  attribute of an item in the index (1). Index writes are not doubled by transactions.

Item sizes come from a scan before the run, the request payloads during it, and a scan after
it (the final size of each item's last write). Indexes are read from template.yaml.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from _common import Call, dynamo_item_bytes

WRITE_OPERATIONS = {
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
}


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # KEYS_ONLY | INCLUDE | ALL
    projected: frozenset[str] = frozenset()


@dataclass
class ItemWrite:
    table: str
    kind: str  # Put | Update | Delete | ConditionCheck
    key: tuple[tuple[str, str], ...]
    values: dict[str, Any]  # attributes set by the write (typed values), when known
    removed: set[str]
    payload: int
    transactional: bool


def table_indexes(template: dict[str, Any], names: dict[str, str]) -> dict[str, list[Index]]:
    """Physical table name -> its GSIs, from the template (logical id -> physical name given)."""
    out: dict[str, list[Index]] = {}
    for logical, physical in names.items():
        props = template["Resources"][logical]["Properties"]
        out[physical] = [
            Index(
                g["IndexName"],
                tuple(k["AttributeName"] for k in g["KeySchema"]),
                g["Projection"]["ProjectionType"],
                frozenset(g["Projection"].get("NonKeyAttributes", [])),
            )
            for g in props.get("GlobalSecondaryIndexes", [])
        ]
    return out


_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)


def _update_effects(body: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """(attributes set with their typed values, attributes removed) of an UpdateExpression."""
    names = body.get("ExpressionAttributeNames", {})
    values = body.get("ExpressionAttributeValues", {})
    expression = body.get("UpdateExpression", "")
    parts = _CLAUSE.split(expression)
    set_values: dict[str, Any] = {}
    removed: set[str] = set()
    for keyword, clause in zip(parts[1::2], parts[2::2], strict=True):
        for piece in (p.strip() for p in clause.split(",") if p.strip()):
            if keyword.upper() == "REMOVE":
                removed.add(names.get(piece, piece))
                continue
            target, _, value = piece.replace("=", " ").partition(" ")
            attr = names.get(target.strip(), target.strip())
            token = value.strip().split()[0] if value.strip() else ""
            set_values[attr] = values.get(token, {"S": "?"})
    return set_values, removed


def item_writes(call: Call, keys: dict[str, list[str]]) -> list[ItemWrite]:
    p = call.params
    if call.operation == "TransactWriteItems":
        entries = [
            (kind, body, True) for e in p.get("TransactItems", []) for kind, body in e.items()
        ]
    elif call.operation == "BatchWriteItem":
        entries = [
            (kind, {"TableName": table, **body}, False)
            for table, requests in p.get("RequestItems", {}).items()
            for r in requests
            for kind, body in r.items()
        ]
    else:
        entries = [(call.operation, p, False)]
    out = []
    for kind, body, tx in entries:
        kind = {
            "PutItem": "Put",
            "PutRequest": "Put",
            "UpdateItem": "Update",
            "DeleteItem": "Delete",
            "DeleteRequest": "Delete",
        }.get(kind, kind)
        table = body.get("TableName", "")
        source = body.get("Key") or body.get("Item") or {}
        key = tuple(sorted((k, str(next(iter(source[k].values())))) for k in keys.get(table, [])))
        if kind == "Put":
            values, removed = dict(body.get("Item", {})), set()
        elif kind == "Update":
            values, removed = _update_effects(body)
        else:
            values, removed = {}, set()
        payload = dynamo_item_bytes(body.get("Item", {})) + dynamo_item_bytes(
            body.get("ExpressionAttributeValues", {})
        )
        out.append(ItemWrite(table, kind, key, values, removed, payload, tx))
    return out


def kb_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass
class WriteCost:
    """Feed every write call of the run in order; read the units per table, kind and index."""

    indexes: dict[str, list[Index]]
    key_names: dict[str, list[str]]
    items_before: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]]
    sizes_after: dict[tuple[str, tuple[tuple[str, str], ...]], int]
    table_units: Counter[str] = field(default_factory=Counter)
    index_units: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._items = {k: dict(v) for k, v in self.items_before.items()}
        self._sizes = {k: dynamo_item_bytes(v) for k, v in self.items_before.items()}

    def observe(self, writes: list[tuple[Call, list[ItemWrite]]], label: Any) -> None:
        """`label(item_write)` names what an item is (e.g. "pre-label", "run counters")."""
        last = {}
        for n, (_, items) in enumerate(writes):
            for w in items:
                last[(w.table, w.key)] = n
        for n, (_, items) in enumerate(writes):
            for w in items:
                if w.kind == "ConditionCheck":
                    continue
                ident = (w.table, w.key)
                what = label(w)
                old_item = self._items.get(ident)
                old_size = self._sizes.get(ident, 0)
                new_size = (
                    self.sizes_after.get(ident, 0)
                    if last[ident] == n
                    else (old_size + w.payload if w.kind != "Put" else w.payload)
                )
                units = kb_units(max(old_size, new_size, w.payload))
                self.table_units[f"{what} ({'tx ' if w.transactional else ''}{w.kind})"] += (
                    units * (2 if w.transactional else 1)
                )
                self.items[what] += 1
                new_item = self._apply(old_item, w)
                for index in self.indexes.get(w.table, []):
                    gsi = _index_writes(index, old_item, new_item)
                    if gsi:
                        self.index_units[f"{index.name} ({what})"] += gsi
                self._items[ident] = new_item or {}
                self._sizes[ident] = new_size if w.kind != "Delete" else 0

    @staticmethod
    def _apply(old: dict[str, Any] | None, w: ItemWrite) -> dict[str, Any] | None:
        if w.kind == "Delete":
            return None
        if w.kind == "Put":
            return dict(w.values)
        merged = dict(old or {})
        merged.update(w.values)
        for attr in w.removed:
            merged.pop(attr, None)
        return merged

    @property
    def total(self) -> int:
        return sum(self.table_units.values()) + sum(self.index_units.values())


def _index_writes(index: Index, old: dict[str, Any] | None, new: dict[str, Any] | None) -> int:
    def key_of(item: dict[str, Any] | None) -> tuple[str, ...] | None:
        if not item or any(k not in item for k in index.keys):
            return None
        return tuple(str(item[k]) for k in index.keys)

    before, after = key_of(old), key_of(new)
    if before is None and after is None:
        return 0
    if before is None or after is None:
        return 1
    if before != after:
        return 2
    if index.projection == "KEYS_ONLY":
        return 0
    watched = None if index.projection == "ALL" else index.projected
    changed = {
        a
        for a in set(old or {}) | set(new or {})
        if (old or {}).get(a) != (new or {}).get(a) and (watched is None or a in watched)
    }
    return 1 if changed else 0
