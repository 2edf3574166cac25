"""The port for pre-labeling runs: one repository for everything a run's record holds."""

from __future__ import annotations

from abc import ABC, abstractmethod

from prelabel.domain.entities import ProjectRef, Run, RunSnapshot, RunStatus


class RunRepository(ABC):
    @abstractmethod
    def create(self, run: Run, snapshot: RunSnapshot) -> bool:
        """Store the run and make it the project's active run, atomically; False if one is.
        Conflict while a job moves the project's tasks to shards."""

    @abstractmethod
    def get(self, ref: ProjectRef, run_id: str) -> Run:
        """NotFound if absent."""

    @abstractmethod
    def find(self, ref: ProjectRef, run_id: str) -> Run | None: ...

    @abstractmethod
    def latest(self, ref: ProjectRef) -> Run | None:
        """The run started last (console starts pick their own ids: ordered by start time)."""

    @abstractmethod
    def recent(self, ref: ProjectRef, limit: int) -> list[Run]:
        """The project's runs, newest first."""

    @abstractmethod
    def snapshot(self, ref: ProjectRef, run_id: str) -> RunSnapshot:
        """The mapping as it was when the run started; NotFound if the run has none."""

    @abstractmethod
    def set_execution(self, ref: ProjectRef, run_id: str, execution_arn: str) -> None: ...

    @abstractmethod
    def set_total(self, ref: ProjectRef, run_id: str, total: int) -> None: ...

    @abstractmethod
    def request_stop(self, ref: ProjectRef, run_id: str) -> bool:
        """RUNNING -> STOPPING; False if the run was not RUNNING.

        From this write on, no batch of the run can commit (commits require RUNNING), so the
        run's counters are final the moment this returns.
        """

    @abstractmethod
    def finish(self, ref: ProjectRef, run_id: str, status: RunStatus, message: str | None) -> bool:
        """Active -> final status and the project's active run cleared; False if already final."""
