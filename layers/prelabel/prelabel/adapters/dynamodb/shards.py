"""Where a project's tasks live (its layout), and the two ways the adapters use many shards:
writes packed into transactions that each touch few counters items, reads merged from one
sorted query per shard.

Layouts: a sharded project (N on the project item) never changes layout, so it is read once per
process; a legacy project can start moving to shards at any moment (a reshard job), so its
layout is read on every use, and each of its writes checks in its transaction that the project
is still legacy and not being moved (`guard`). While a job moves a legacy project's tasks, each
task is in exactly one place (a move is one transaction), readers read the old partition and the
new shards together, and writers other than the job are refused.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain, zip_longest
from threading import Lock
from typing import TypeVar

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from prelabel.adapters.dynamodb.errors import storage_errors
from prelabel.adapters.dynamodb.keys import Shard, shard_index
from prelabel.adapters.dynamodb.models import ProjectModel
from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import Conflict

T = TypeVar("T")
# What a merge compares: task ids, or tuples that start with one.
S = TypeVar("S", str, tuple[str, str])
# Sharded layouts kept per process; each is a few bytes.
CACHED_LAYOUTS = 4096


@dataclass(frozen=True, slots=True)
class Layout:
    ref: ProjectRef
    # N of a sharded project; None: a legacy project, all its tasks under the unnumbered keys.
    shards: int | None
    # While a reshard job moves a legacy project's tasks: the N they go to, and the job.
    moving_to: int | None = None
    moving_job: str | None = None

    @property
    def legacy(self) -> Shard:
        return Shard(self.ref, None)

    def stored(self) -> tuple[Shard, ...]:
        """Every partition that may hold the project's tasks now."""
        if self.shards is not None:
            return tuple(Shard(self.ref, n) for n in range(self.shards))
        moved = tuple(Shard(self.ref, n) for n in range(self.moving_to or 0))
        return (self.legacy, *moved)

    def part(self, n: int | None) -> tuple[Shard, ...]:
        """The partitions of part `n` of the project's tasks (None: of all): shard `n` of a
        sharded project; a legacy project's tasks are one part."""
        if n is None or self.shards is None:
            return self.stored()
        if not 0 <= n < self.shards:
            raise ValueError(f"part {n} of a project of {self.shards} shards")
        return (Shard(self.ref, n),)

    def places(self, task_id: str) -> tuple[Shard, ...]:
        """Where the task may be: one place, or two while a job moves the project's tasks."""
        if self.shards is not None:
            return (Shard(self.ref, shard_index(task_id, self.shards)),)
        if self.moving_to is None:
            return (self.legacy,)
        return (self.legacy, Shard(self.ref, shard_index(task_id, self.moving_to)))

    @property
    def busy(self) -> Conflict | None:
        """Why no write but the moving job's may go now (None: writes may go)."""
        if self.moving_job is None:
            return None
        return Conflict(
            f"the project's tasks are being moved to {self.moving_to} shards by job "
            f"{self.moving_job}; try again when it has ended"
        )

    def writable(self) -> Layout:
        if self.busy is not None:
            raise self.busy
        return self

    def home(self, task_id: str) -> Shard:
        """Where a write puts the task; Conflict while a job moves the project's tasks."""
        return self.writable().places(task_id)[0]

    def group(self, task_ids: Iterable[str]) -> dict[Shard, list[str]]:
        groups: dict[Shard, list[str]] = {}
        for task_id in task_ids:
            groups.setdefault(self.home(task_id), []).append(task_id)
        return groups

    @property
    def guard(self) -> Condition | None:
        """What a write's transaction checks on the project item: a legacy project must still
        be legacy and not being moved (a sharded layout never changes: nothing to check)."""
        if self.shards is not None:
            return None
        still: Condition = (
            ProjectModel.shards.does_not_exist() & ProjectModel.reshard_job.does_not_exist()
        )
        return still


class Layouts:
    """Each project's layout, from its project item; sharded ones are kept, being final."""

    def __init__(self) -> None:
        self._fixed: dict[str, Layout] = {}
        self._lock = Lock()

    def of(self, ref: ProjectRef) -> Layout:
        fixed = self._fixed.get(ref.key)
        if fixed is not None:
            return fixed
        layout = read_layout(ref)
        if layout.shards is not None:
            with self._lock:
                if len(self._fixed) >= CACHED_LAYOUTS:
                    self._fixed.pop(next(iter(self._fixed)))
                self._fixed[ref.key] = layout
        return layout


def read_layout(ref: ProjectRef) -> Layout:
    """The layout on the project item now (a project that does not exist holds no tasks: legacy)."""
    try:
        with storage_errors("read project layout"):
            item = ProjectModel.get(
                ref.org_id,
                ref.project_id,
                consistent_read=True,
                attributes_to_get=["shards", "reshard_to", "reshard_job"],
            )
    except DoesNotExist:
        return Layout(ref, None)
    return Layout(
        ref,
        None if item.shards is None else int(item.shards),
        None if item.reshard_to is None else int(item.reshard_to),
        item.reshard_job,
    )


def pack(
    groups: Mapping[Shard, Sequence[T]], max_items: int, max_shards: int
) -> list[list[tuple[Shard, list[T]]]]:
    """Transactions of at most `max_items` items from at most `max_shards` shards (one counters
    item each): each shard's full transactions first, taken from the shards in turn so that
    consecutive transactions write different partitions, then the remainders packed together."""
    rounds: list[list[list[tuple[Shard, list[T]]]]] = []
    rest: list[tuple[Shard, list[T]]] = []
    for shard, items in groups.items():
        cut = len(items) - len(items) % max_items
        rounds.append([[(shard, list(items[i : i + max_items]))] for i in range(0, cut, max_items)])
        if cut < len(items):
            rest.append((shard, list(items[cut:])))
    out = [tx for turn in zip_longest(*rounds) for tx in turn if tx is not None]
    current: list[tuple[Shard, list[T]]] = []
    size = 0
    for shard, items in rest:
        while items:
            if size == max_items or len(current) == max_shards:
                out.append(current)
                current, size = [], 0
            taken, items = items[: max_items - size], items[max_items - size :]
            current.append((shard, taken))
            size += len(taken)
    if current:
        out.append(current)
    return out


_END = object()
_pool: ThreadPoolExecutor | None = None
_pool_lock = Lock()


def _readers() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="prelabel-shard-read")
        return _pool


def merged(streams: Sequence[Iterator[S]]) -> Iterator[S]:
    """The sorted streams of the shards merged into one sorted stream. Their first pages are
    fetched at the same time (one query per shard, in parallel), so a view over N shards waits
    about one query's time, not N."""
    if len(streams) == 1:
        return iter(streams[0])
    firsts = list(_readers().map(lambda s: next(s, _END), streams))
    started = [
        chain([first], s) for first, s in zip(firsts, streams, strict=True) if first is not _END
    ]
    return heapq.merge(*started)  # type: ignore[arg-type]
