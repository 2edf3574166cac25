"""The project's counters item: read in one GetItem, changed inside the writes it counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.keys import COUNTS_ITEM, STATE_COUNTER, counts_key
from prelabel.adapters.dynamodb.models import CountsModel
from prelabel.domain.entities import ProjectCounts, ProjectRef

COUNTER_NAMES = (*STATE_COUNTER.values(), "eligible", "prelabeled", "failed")


def counts_item(ref: ProjectRef) -> CountsModel:
    return CountsModel(counts_key(ref), COUNTS_ITEM)


def counter_actions(deltas: Mapping[str, int]) -> list[Action]:
    """ADD for each non-zero delta (ADD creates the item and the attribute when absent)."""
    unknown = set(deltas) - set(COUNTER_NAMES)
    if unknown:
        raise ValueError(f"no such counters: {sorted(unknown)}")
    return [getattr(CountsModel, name).add(n) for name, n in deltas.items() if n]


def read_counts(ref: ProjectRef) -> ProjectCounts:
    try:
        with storage_errors("read project counts"):
            item = CountsModel.get(counts_key(ref), COUNTS_ITEM, consistent_read=True)
    except DoesNotExist:
        return ProjectCounts(by_state=dict.fromkeys(STATE_COUNTER, 0))
    return ProjectCounts(
        by_state={state: int(getattr(item, attr) or 0) for state, attr in STATE_COUNTER.items()},
        eligible=int(item.eligible or 0),
        prelabeled=int(item.prelabeled or 0),
        failed=int(item.failed or 0),
    )


def nonzero(deltas: Counter[str]) -> dict[str, int]:
    return {k: v for k, v in deltas.items() if v}
