"""The AI-assistant view: what the pre-labeling tab of the UI shows."""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.entities import Organization, Project, ProjectCounts, ProjectRef, Run
from prelabel.domain.start_rules import start_blockers
from prelabel.ports.organizations import OrganizationRepository
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import TaskRepository


@dataclass(frozen=True, slots=True)
class AssistantView:
    organization: Organization
    project: Project
    counts: ProjectCounts
    blockers: list[str]
    run: Run | None

    @property
    def eligible(self) -> int:
        return self.counts.eligible

    @property
    def can_start(self) -> bool:
        return not self.blockers


@dataclass(frozen=True)
class AssistantService:
    orgs: OrganizationRepository
    projects: ProjectRepository
    tasks: TaskRepository

    def view(self, ref: ProjectRef, run: Run | None) -> AssistantView:
        """`run` is the project's active or last run, as the caller already read (and
        reconciled) it. A fixed number of reads at any project size."""
        project = self.projects.get(ref)
        org = self.orgs.get(ref.org_id)
        counts = self.tasks.counts(ref)
        return AssistantView(org, project, counts, start_blockers(org, project, run), run)
