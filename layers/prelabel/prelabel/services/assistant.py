"""The AI-assistant view: what the pre-labeling tab of the UI shows."""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.entities import Organization, Project, ProjectRef, Run
from prelabel.domain.start_rules import start_blockers
from prelabel.ports.organizations import OrganizationRepository
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import TaskRepository


@dataclass(frozen=True, slots=True)
class AssistantView:
    organization: Organization
    project: Project
    eligible: int
    blockers: list[str]
    run: Run | None

    @property
    def can_start(self) -> bool:
        return not self.blockers


def assistant_view(
    orgs: OrganizationRepository,
    projects: ProjectRepository,
    tasks: TaskRepository,
    ref: ProjectRef,
    run: Run | None,
) -> AssistantView:
    """`run` is the project's active or last run, as the caller already read (and reconciled) it."""
    project = projects.get(ref)
    org = orgs.get(ref.org_id)
    eligible = tasks.count_eligible(ref)
    return AssistantView(org, project, eligible, start_blockers(org, project, run), run)
