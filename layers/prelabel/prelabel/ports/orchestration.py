"""Ports of the workflow engine: executions, and the manifests their Distributed Maps read."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping

from prelabel.domain.errors import StorageError
from prelabel.ports.labeling import BatchItem


class ExecutionGone(StorageError):
    """The engine knows no such execution (it lived in a local stack that has stopped)."""


class Orchestrator(ABC):
    @abstractmethod
    def start(self, run_id: str, payload: Mapping[str, object]) -> str:
        """Start the state machine execution named `run_id` (a run's or a job's id) with
        `payload` as its input; returns its ARN."""

    @abstractmethod
    def stop(self, execution_arn: str, cause: str) -> None: ...

    @abstractmethod
    def status(self, execution_arn: str) -> str:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED; ExecutionGone if there is none."""


class ManifestStore(ABC):
    @abstractmethod
    def write(self, run_id: str, items: Iterable[BatchItem]) -> tuple[str, str, int]:
        """Store the run's batches; returns (bucket, prefix) the Distributed Map lists, and
        how many batches were written."""

    @abstractmethod
    def read(self, bucket: str, key: str) -> BatchItem: ...
