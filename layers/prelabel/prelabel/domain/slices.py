"""Slices: a job's work cut into parts that run at the same time (a Distributed Map), each part
a loop of bounded steps of its own.

A sliced job works in phases (an import: one; a reconnect: the deletions, then the import; a
large export: the file names, then the file). A phase is planned into slices (sub-prefixes,
byte ranges of a manifest, task shards, task-id ranges), the plan is stored once (a retried plan
reuses it), the Map runs every slice, and the job's next step merges what they did. Each slice
keeps a record: its spec, the cursor of its next step, how many steps it has committed, whether
it finished, why it could not go on. A step commits its record and the progress it made in one
transaction, conditioned on the step number, so a step that runs twice counts once.

Step Functions keeps at most 25,000 history events per execution: an execution near the limit
hands its cursor to a fresh one (the job), or ends and lets the next round pick its slice up
again (a slice of the Map).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# History events one loop of a step costs: the Task's entered, scheduled, started, succeeded and
# exited events, and the Choice's entered and exited; a retry adds the failure, scheduled and
# started events again; a Map round adds its entered, run started, run ended and exited events.
EVENTS_PER_STEP = 7
EVENTS_PER_RETRY = 3
EVENTS_PER_MAP = 6
# Step Functions' quota is 25,000 events per execution; executions hand over well before it.
HISTORY_LIMIT = 25_000
# Jobs' plans and the parts their slices write live under this top-level folder of the data
# bucket, which no organization id can name (domain.locations.RESERVED_ORG_IDS).
JOBS_FOLDER = "jobs"
# At most this many slices in one plan: a Map round lists one object per slice, and the local
# stack's item reader reads one listing page of 1,000.
MAX_SLICES = 1_000


@dataclass(frozen=True, slots=True)
class SliceState:
    """One slice's record. `cursor` is where its next step starts ({} for the first); `step`
    counts its committed steps; `output` is what a finished slice hands the merge (small). A
    job's progress is the sum of its current phase's slices' `done`."""

    spec: dict[str, Any]
    cursor: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    finished: bool = False
    failure: str | None = None
    output: dict[str, Any] = field(default_factory=dict)
    # The progress the slice made (the writes it counts add to it in their own transactions).
    done: int = 0


@dataclass(frozen=True, slots=True)
class SliceStep:
    """What one step of a slice did: where the next starts, whether the slice is finished, the
    progress it made (added to the job's `done`, once), and, once finished, its output."""

    cursor: dict[str, Any]
    finished: bool
    progress: int = 0
    output: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SliceItem:
    """One item of a plan round, as the Map hands it to a slice: the phase, the slice's number
    and its spec."""

    phase: int
    number: int
    spec: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"phase": self.phase, "slice": self.number, "spec": self.spec}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SliceItem:
        return cls(int(doc["phase"]), int(doc["slice"]), dict(doc["spec"]))


@dataclass(frozen=True, slots=True)
class SlicePlan:
    """Where the Map finds a plan round's slices (one object each under `prefix`) and how many
    run at once."""

    bucket: str
    prefix: str
    count: int
    max_concurrency: int


def id_ranges(count: int) -> list[tuple[str | None, str | None]]:
    """`count` ranges [first, before) that together hold every string once, cut evenly where
    derived task ids fall (`t_` and hex digits, domain.imports.task_id_for); None is open."""
    if count <= 1:
        return [(None, None)]
    span = 16**6
    cuts = [f"t_{span * i // count:06x}" for i in range(1, count)]
    return list(zip([None, *cuts], [*cuts, None], strict=True))


def in_range(task_id: str, first: str | None, before: str | None) -> bool:
    return (first is None or task_id >= first) and (before is None or task_id < before)


def history_events(events: int, retries: int) -> int:
    """The events an execution has after one more step (retried `retries` times)."""
    return events + EVENTS_PER_STEP + EVENTS_PER_RETRY * retries


def job_folder(org_id: str, project_id: str, job_id: str) -> str:
    """The job's own folder of the data bucket (its plans, its slices' parts)."""
    return f"{JOBS_FOLDER}/{org_id}/{project_id}/{job_id}"
