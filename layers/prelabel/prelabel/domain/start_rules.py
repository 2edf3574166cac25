"""Why pre-labeling cannot start now: one list of reasons shared by the view and the start call."""

from __future__ import annotations

from prelabel.domain.entities import Organization, Project, Run
from prelabel.domain.plans import PRELABEL_PLANS


def start_blockers(org: Organization, project: Project, active_run: Run | None) -> list[str]:
    reasons: list[str] = []
    if org.plan not in PRELABEL_PLANS:
        reasons.append(
            f"pre-labeling needs the TEAM_PRO plan; this organization is on {org.plan.value}"
        )
    if not project.mapping.rows:
        reasons.append("the label mapping has no rows; map at least one detector class first")
    if org.remaining <= 0:
        reasons.append("the AI-assistance limit for this month is used up (0 remaining)")
    if active_run is not None and active_run.status.is_active:
        reasons.append(f"run {active_run.run_id} is already {active_run.status.value}")
    return reasons
