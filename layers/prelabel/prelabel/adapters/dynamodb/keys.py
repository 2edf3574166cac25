"""The partition keys, in one place: a project's, and in the tasks table those of tasks, their
states, pre-labels and counts, per shard.

A sharded project spreads its tasks over N shards (N on the project item): task `t` lives in
shard `shard_index(t, N)`, and every key of the tasks table and its indexes ends in `#<shard>`
(`<org>#<project>#3`, `<org>#<project>#WAITING#3`, `<org>#<project>#pl#DONE#3`,
`<org>#<project>#counts#3`, `<org>#<project>#<dataset>#3`). A legacy project (no N stored) has
one unnumbered shard with the keys every project had before (`<org>#<project>`, ...). Ids never
hold `#` (the API's id pattern), so no key of one kind can be read as another's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from prelabel.domain.entities import LabelingState, PrelabelState, ProjectRef


def project_ref(key: str) -> ProjectRef:
    """The project a key starting with `<org>#<project>` (ProjectRef.key) names."""
    org_id, project_id = key.split("#")[:2]
    return ProjectRef(org_id, project_id)


def shard_index(task_id: str, shards: int) -> int:
    """The shard of a task: a hash of its id, so any id (imported or not) spreads evenly."""
    digest = hashlib.blake2b(task_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % shards


@dataclass(frozen=True, slots=True)
class Shard:
    """One of a project's task partitions: number `n` of a sharded project, or (n None) the
    only one of a legacy project, under the unnumbered keys."""

    ref: ProjectRef
    n: int | None

    @property
    def _suffix(self) -> str:
        return "" if self.n is None else f"#{self.n}"

    @property
    def tasks_key(self) -> str:
        return f"{self.ref.key}{self._suffix}"

    def state_key(self, state: LabelingState) -> str:
        return f"{self.ref.key}#{state.value}{self._suffix}"

    def dataset_key(self, dataset_id: str) -> str:
        return f"{self.ref.key}#{dataset_id}{self._suffix}"

    def outcome_key(self, outcome: PrelabelState) -> str:
        return f"{self.ref.key}#pl#{outcome.value}{self._suffix}"

    @property
    def review_key(self) -> str:
        """The shard's partition of the review index: its DONE pre-labels' own partition key,
        so the index needs no key attribute of its own (models.ReviewQueueIndex)."""
        return self.outcome_key(PrelabelState.DONE)

    @property
    def counts_key(self) -> str:
        return f"{self.ref.key}#counts{self._suffix}"

    @property
    def reviewed_key(self) -> str:
        return f"{self.ref.key}#rv{self._suffix}"

    @property
    def reviewed_counts_key(self) -> str:
        return f"{self.ref.key}#rvcounts{self._suffix}"


def quality_key(ref: ProjectRef) -> str:
    """The project's quality report: a few items per scope, written once per quality job, so
    one unsharded partition."""
    return f"{ref.key}#quality"


def outcome_of(outcome_key: str) -> PrelabelState:
    """DONE or FAILED, from a pre-label's partition key (`<org>#<project>#pl#DONE[#n]`)."""
    return PrelabelState(outcome_key.split("#")[3])


COUNTS_ITEM = "counts"

# LabelingState -> the CountsModel attribute that counts it.
STATE_COUNTER = {
    LabelingState.BACKLOG: "backlog",
    LabelingState.WAITING: "waiting",
    LabelingState.IN_PROGRESS: "in_progress",
    LabelingState.COMPLETED: "completed",
    LabelingState.SKIPPED: "skipped",
}
