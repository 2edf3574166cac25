"""The project's counters: one item per shard, each changed inside the writes of its shard's
tasks and pre-labels, read together in one BatchGetItem and summed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from pynamodb.expressions.update import Action

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.keys import COUNTS_ITEM, STATE_COUNTER, Shard
from prelabel.adapters.dynamodb.models import CountsModel
from prelabel.adapters.dynamodb.shards import Layout
from prelabel.domain.entities import ProjectCounts

COUNTER_NAMES = (*STATE_COUNTER.values(), "eligible", "prelabeled", "failed")


def counts_item(shard: Shard) -> CountsModel:
    return CountsModel(shard.counts_key, COUNTS_ITEM)


def counter_actions(deltas: Mapping[str, int]) -> list[Action]:
    """ADD for each non-zero delta (ADD creates the item and the attribute when absent)."""
    unknown = set(deltas) - set(COUNTER_NAMES)
    if unknown:
        raise ValueError(f"no such counters: {sorted(unknown)}")
    return [getattr(CountsModel, name).add(n) for name, n in deltas.items() if n]


def counter_values(item: CountsModel) -> Counter[str]:
    return Counter({name: int(getattr(item, name) or 0) for name in COUNTER_NAMES})


def read_counts(layout: Layout) -> ProjectCounts:
    keys = [(shard.counts_key, COUNTS_ITEM) for shard in layout.stored()]
    total: Counter[str] = Counter()
    with storage_errors("read project counts"):
        for item in CountsModel.batch_get(keys, consistent_read=True):
            total.update(counter_values(item))
    return ProjectCounts(
        by_state={state: total[attr] for state, attr in STATE_COUNTER.items()},
        eligible=total["eligible"],
        prelabeled=total["prelabeled"],
        failed=total["failed"],
    )


def nonzero(deltas: Counter[str]) -> dict[str, int]:
    return {k: v for k, v in deltas.items() if v}
