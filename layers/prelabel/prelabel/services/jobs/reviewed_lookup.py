"""The project's tasks as a `TaskLookup` for matching a slice of reviewed images, read from
storage without any index of keys.

Task ids are derived from (dataset, generation, bucket, key) (domain.imports.task_id_for), so
an image key names, per dataset of the project that could hold it, exactly one candidate id: a
prefix dataset only for keys under its prefix in its bucket, a manifest dataset for the key in
any bucket of the organization's locations. A slice's candidates are read in one batched read
(tasks and pre-labels by key), and the task found must have that bucket and key.

File names have no such derivation: they are answered from the name index the job builds from
the project's tasks (reviewed_step's name pass), holding only the names the file needs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from prelabel.domain.entities import Dataset, PrelabelState, ProjectRef
from prelabel.domain.imports import task_id_for
from prelabel.domain.locations import OrgLocations, is_readable
from prelabel.ports.task_facts import TaskFacts, TaskFinder
from prelabel.reviewed import KeyQuery, TaskHit
from prelabel.reviewed.matching import HITS_NEEDED


def hit_of(facts: TaskFacts) -> TaskHit:
    p = facts.prelabel
    if p is None or p.state is not PrelabelState.DONE:
        return TaskHit(facts.task_id)
    return TaskHit(facts.task_id, p.width, p.height)


class StoredTasks:
    """A `TaskLookup` over the stored tasks; answers by key are kept, so a matcher asking
    again for what a caller asked first reads nothing more."""

    def __init__(
        self,
        finder: TaskFinder,
        ref: ProjectRef,
        datasets: Sequence[Dataset],
        locations: OrgLocations,
        names: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._finder = finder
        self._ref = ref
        self._datasets = tuple(datasets)
        self._locations = locations
        self._buckets = tuple(dict.fromkeys(loc.bucket for loc in locations.locations))
        self._names = names or {}
        self._by_key: dict[KeyQuery, list[TaskHit]] = {}

    def _candidates(self, query: KeyQuery) -> list[tuple[str, str]]:
        """(task id, bucket) of each task that would hold this key, one per dataset and bucket."""
        bucket, key = query
        found = []
        for d in self._datasets:
            if d.manifest_key is None:
                buckets: Sequence[str] = [d.bucket] if key.startswith(d.prefix or "") else []
            else:
                buckets = self._buckets
            for b in buckets:
                if (bucket is None or b == bucket) and is_readable(self._locations, b, key):
                    found.append((task_id_for(d.dataset_id, d.generation, b, key), b))
        return found

    def tasks_by_key(self, keys: Collection[KeyQuery]) -> Mapping[KeyQuery, Sequence[TaskHit]]:
        candidates = {k: self._candidates(k) for k in keys if k not in self._by_key}
        ids = list(dict.fromkeys(t for found in candidates.values() for t, _ in found))
        facts = self._finder.facts(self._ref, ids) if ids else {}
        for query, found in candidates.items():
            hits = [
                hit_of(facts[t])
                for t, b in found
                if t in facts and (facts[t].bucket, facts[t].image_key) == (b, query[1])
            ]
            self._by_key[query] = hits[:HITS_NEEDED]
        return {k: self._by_key[k] for k in keys if self._by_key.get(k)}

    def assume_absent(self, keys: Collection[KeyQuery]) -> None:
        """Keys an earlier step found no task for: not read again."""
        for key in keys:
            self._by_key.setdefault(key, [])

    def tasks_by_file_name(self, names: Collection[str]) -> Mapping[str, Sequence[TaskHit]]:
        wanted = {n: self._names[n] for n in names if n in self._names}
        ids = list(dict.fromkeys(t for found in wanted.values() for t in found))
        facts = self._finder.facts(self._ref, ids) if ids else {}
        answer = {n: [hit_of(facts[t]) for t in found if t in facts] for n, found in wanted.items()}
        return {n: hits for n, hits in answer.items() if hits}
