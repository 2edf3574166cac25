"""The AI-assistant view: what the pre-labeling tab of the UI shows."""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.entities import Organization, Project, ProjectRef, Run
from prelabel.domain.start_rules import start_blockers
from prelabel.ports.organizations import OrganizationRepository
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import RunRepository, TaskRepository


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
    runs: RunRepository,
    ref: ProjectRef,
) -> AssistantView:
    project = projects.get(ref)
    org = orgs.get(ref.org_id)
    run = runs.get(ref, project.active_run_id) if project.active_run_id else runs.latest(ref)
    eligible = tasks.count_eligible(ref)
    return AssistantView(org, project, eligible, start_blockers(org, project, run), run)
