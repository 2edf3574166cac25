"""The quality report, the requests: computing it (a job: services/jobs/quality_step.py) and
reading it, per scope, with calibrated thresholds for a target precision.

A read is a fixed number of reads at any project size: the project, one query of the scope's
report items, and the counters that tell whether the report is stale (reviewed labels written
or pre-labels added or removed since it was computed).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import InvalidInput
from prelabel.domain.jobs import Job, JobKind
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.quality_reports import QualityReports, QualitySummary, StoredScope
from prelabel.ports.reviewed_labels import ReviewedLabelStore
from prelabel.ports.tasks import TaskRepository
from prelabel.quality import ALL, Scope, TallyFormatError, check_target
from prelabel.services.jobs.service import JobService, new_job
from prelabel.services.quality_view import QualityView, class_views, suggested_rows

NOT_COMPUTED = "No quality report yet: compute it (POST /projects/{id}/quality)"


def parse_scope(text: str) -> Scope:
    try:
        scope = Scope.parse(text)
    except TallyFormatError as exc:
        raise InvalidInput(
            f"scope: {text[:80]!r} is not all, model:<version> or run:<run id>", field="scope"
        ) from exc
    if scope.kind.value != "all" and not scope.value:
        raise InvalidInput(f"scope: {text!r} names no model version or run", field="scope")
    return scope


@dataclass(frozen=True)
class QualityService:
    projects: ProjectRepository
    tasks: TaskRepository
    reviewed: ReviewedLabelStore
    reports: QualityReports
    jobs: JobService

    def start(self, ref: ProjectRef, by_run: bool) -> Job:
        """The job computing the report; the same request while one runs gets that job."""
        self.projects.get(ref)
        running = self.jobs.running(ref, JobKind.QUALITY, {})
        if running is not None:
            return running
        reviewed = self.reviewed.count(ref)
        params = {
            "by_run": "true" if by_run else "false",
            "prelabeled": str(self.tasks.counts(ref).prelabeled),
            "reviewed_changes": str(reviewed.changes),
        }
        return self.jobs.launch(new_job(ref, JobKind.QUALITY, params, total=reviewed.tasks))

    def view(self, ref: ProjectRef, scope_text: str, target: float) -> QualityView:
        project = self.projects.get(ref)
        check_target(target)
        scope = parse_scope(scope_text)
        stored = self.reports.read(ref, scope.key)
        summary = stored.summary if stored else self._summary(ref, scope)
        reviewed_now = self.reviewed.count(ref)
        prelabeled_now = self.tasks.counts(ref).prelabeled
        view = QualityView(
            project=project,
            scope=scope.key,
            target=target,
            summary=summary,
            stale=_stale(summary, reviewed_now.changes, prelabeled_now),
            reviewed_now=reviewed_now,
            prelabeled_now=prelabeled_now,
            job=self.jobs.running(ref, JobKind.QUALITY, {}),
        )
        if stored is None:
            rows, _ = suggested_rows(project, ())
            return dataclasses.replace(view, message=_missing(scope, summary), suggested_rows=rows)
        classes, map50, precision, recall = class_views(project, stored, target)
        rows, changed = suggested_rows(project, classes)
        return dataclasses.replace(
            view,
            scope_tasks=stored.tally.tasks,
            classes=classes,
            map50=map50,
            precision=precision,
            recall=recall,
            suggested_rows=rows,
            changed_rows=changed,
            message=_message(stored),
        )

    def _summary(self, ref: ProjectRef, scope: Scope) -> QualitySummary | None:
        if scope == ALL:
            return None
        found = self.reports.read(ref, ALL.key)
        return found.summary if found else None


def _stale(summary: QualitySummary | None, changes: int, prelabeled: int) -> tuple[str, ...]:
    if summary is None:
        return ()
    reasons = []
    writes = changes - summary.reviewed_changes
    if writes:
        reasons.append(f"{writes} write{'' if writes == 1 else 's'} of reviewed labels since")
    if prelabeled != summary.prelabeled:
        reasons.append(f"pre-labeled tasks: {summary.prelabeled} then, {prelabeled} now")
    return tuple(reasons)


def _missing(scope: Scope, summary: QualitySummary | None) -> str:
    if summary is None:
        return NOT_COMPUTED
    shown = ", ".join(summary.scopes[:20])
    hint = " (compute with by_run to get runs)" if scope.kind.value == "run" else ""
    return f"The report has no scope {scope.key}{hint}; it has: {shown}"


def _message(stored: StoredScope) -> str:
    s = stored.summary
    if stored.tally.tasks == 0:
        return (
            "No task has both pre-labels and reviewed labels yet: import reviewed labels of "
            "pre-labeled tasks, then compute again"
        )
    return (
        f"Figures from {stored.tally.tasks} tasks with both pre-labels and reviewed labels "
        f"({s.reviewed_only} reviewed without a pre-label, {s.prelabeled_only} pre-labeled "
        "without review are not counted)"
    )
