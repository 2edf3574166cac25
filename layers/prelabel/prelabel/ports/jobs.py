"""The port for jobs: their items (status, progress, result), the report of each import step,
and the plans and records of sliced jobs' slices (domain/slices.py)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prelabel.domain.entities import ProjectRef
from prelabel.domain.imports import ImportReport
from prelabel.domain.jobs import Job, JobStatus, ProgressUnit
from prelabel.domain.slices import SliceState


@dataclass(frozen=True, slots=True)
class Progress:
    """A job's figures, set (not added): a step run twice sets the same ones. A None total or
    unit keeps the stored one."""

    done: int
    total: int | None = None
    unit: ProgressUnit | None = None


@dataclass(frozen=True, slots=True)
class JobEnd:
    status: JobStatus
    error: str | None
    # None keeps what a step stored.
    result: Mapping[str, Any] | None
    finished_at: str


class JobRepository(ABC):
    @abstractmethod
    def create(self, job: Job) -> None: ...

    @abstractmethod
    def get(self, ref: ProjectRef, job_id: str) -> Job:
        """NotFound if absent or another organization's."""

    @abstractmethod
    def recent(self, ref: ProjectRef, limit: int) -> list[Job]:
        """The project's newest jobs first, at most `limit`."""

    @abstractmethod
    def set_execution(self, ref: ProjectRef, job_id: str, execution_arn: str) -> None: ...

    @abstractmethod
    def set_progress(self, ref: ProjectRef, job_id: str, progress: Progress) -> None: ...

    @abstractmethod
    def set_result(self, ref: ProjectRef, job_id: str, result: Mapping[str, Any]) -> None:
        """Set (not merge): a step run twice writes the same result."""

    @abstractmethod
    def finish(self, ref: ProjectRef, job_id: str, end: JobEnd) -> bool:
        """End a RUNNING job; False (and nothing written) when it had ended already."""

    @abstractmethod
    def put_slice(self, job_id: str, slice_no: int, report: ImportReport) -> None:
        """The report of one slice of an import; a retried slice replaces its own."""

    @abstractmethod
    def slices(self, job_id: str) -> Iterator[ImportReport]: ...

    # --- sliced jobs ------------------------------------------------------------------------

    @abstractmethod
    def save_plan(
        self, ref: ProjectRef, job_id: str, phase: int, specs: list[dict[str, object]]
    ) -> list[dict[str, object]]:
        """Store a phase's slice specs once: the first plan stored wins, and is returned (a
        retried plan step then works on the slices its first attempt chose). The phase becomes
        the job's current one."""

    @abstractmethod
    def plan(self, job_id: str, phase: int) -> list[dict[str, object]]:
        """The phase's stored slice specs ([] when none was stored)."""

    @abstractmethod
    def slice_state(self, job_id: str, phase: int, number: int) -> SliceState | None:
        """The slice's record, read consistently; None before its first step committed."""

    @abstractmethod
    def slice_states(self, job_id: str, phase: int) -> dict[int, SliceState]:
        """Every record of the phase's slices, by slice number."""

    @abstractmethod
    def advance_slice(
        self,
        ref: ProjectRef,
        job_id: str,
        number: tuple[int, int],
        state: SliceState,
        progress: int,
    ) -> bool:
        """Commit one step of slice `number` (phase, slice): its record becomes `state` (whose
        `step` is one more than the stored one, or 1 for the first) and `progress` is added to
        the slice's `done`, in one write. False, and nothing written, when that step had been
        committed already (a step that ran twice). A job's `done` is its own plus that of each
        slice of its current phase (the last `save_plan`'s)."""
