"""The port for quality reports: per project, per scope (all, a model version, a run) the
tally of each class, and a summary of what was computed, when and on how many tasks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

from prelabel.domain.entities import ProjectRef
from prelabel.quality import ScopeTally


@dataclass(frozen=True, slots=True)
class QualitySummary:
    """What a quality job computed: `tasks` have both a pre-label and reviewed labels (the
    figures rest on them), `reviewed_only` have reviewed labels and no pre-label (none yet, or
    a failed one), `prelabeled_only` a pre-label and no reviewed labels. `reviewed_changes` and
    `prelabeled` are the project's counts when the job started: a report is stale once they
    have moved. `scopes` lists the scope keys computed."""

    job_id: str
    computed_at: str
    by_run: bool
    tasks: int
    reviewed_only: int
    prelabeled_only: int
    reviewed_changes: int
    prelabeled: int
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredScope:
    """One scope of the report: its tally, and per class the lowest threshold the evidence
    covers (the highest threshold the runs in the scope applied to it)."""

    summary: QualitySummary
    scope_key: str
    tally: ScopeTally
    floors: dict[str, float] = field(default_factory=dict)


class QualityReports(ABC):
    @abstractmethod
    def replace(
        self,
        ref: ProjectRef,
        summary: QualitySummary,
        scopes: Mapping[str, ScopeTally],
        floors: Mapping[str, Mapping[str, float]],
    ) -> None:
        """The project's report becomes this one (scope key -> tally, scope key -> floors);
        what an earlier job stored and this one does not have goes."""

    @abstractmethod
    def read(self, ref: ProjectRef, scope_key: str) -> StoredScope | None:
        """One scope of the project's report (one query); None when it has none computed."""
