"""The port for jobs: their items (status, progress, result) and the report of each slice."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prelabel.domain.entities import ProjectRef
from prelabel.domain.imports import ImportReport
from prelabel.domain.jobs import Job, JobStatus, ProgressUnit


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
