"""The partition keys, in one place: a project's, and in the tasks table those of tasks, their
states, pre-labels and counts."""

from __future__ import annotations

from prelabel.domain.entities import LabelingState, PrelabelState, ProjectRef


def project_ref(project_key: str) -> ProjectRef:
    """The project a `project_key` (ProjectRef.key) names."""
    org_id, project_id = project_key.split("#", 1)
    return ProjectRef(org_id, project_id)


def state_key(ref: ProjectRef, state: LabelingState) -> str:
    return f"{ref.key}#{state.value}"


def dataset_key(ref: ProjectRef, dataset_id: str) -> str:
    return f"{ref.key}#{dataset_id}"


def outcome_key(ref: ProjectRef, outcome: PrelabelState) -> str:
    return f"{ref.key}#pl#{outcome.value}"


def counts_key(ref: ProjectRef) -> str:
    return f"{ref.key}#counts"


COUNTS_ITEM = "counts"

# LabelingState -> the CountsModel attribute that counts it.
STATE_COUNTER = {
    LabelingState.BACKLOG: "backlog",
    LabelingState.WAITING: "waiting",
    LabelingState.IN_PROGRESS: "in_progress",
    LabelingState.COMPLETED: "completed",
    LabelingState.SKIPPED: "skipped",
}
