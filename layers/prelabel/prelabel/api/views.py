"""Domain records -> response bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from prelabel.api.schemas import (
    AssistantOut,
    CountsOut,
    DatasetOut,
    ExportLinkOut,
    ExportSummaryOut,
    ImportReportOut,
    JobOut,
    JobProgressOut,
    LabelEntryOut,
    LabelOut,
    LimitOut,
    MappingOut,
    MappingRowOut,
    ProjectOut,
    RunProgressOut,
    SkippedOut,
    StartRunOut,
    TaskDetailOut,
    TaskOut,
)
from prelabel.domain.entities import (
    Dataset,
    LabelingState,
    Organization,
    Project,
    ProjectCounts,
    Run,
    Task,
)
from prelabel.domain.label_config import LabelEntry, bbox_entries
from prelabel.domain.run_rules import run_message

if TYPE_CHECKING:
    from prelabel.domain.imports import ImportReport
    from prelabel.domain.jobs import Job
    from prelabel.services.assistant import AssistantView
    from prelabel.services.exports import ExportLink
    from prelabel.services.runs import StartOutcome

Out = TypeVar("Out", bound=BaseModel)


def _copied(model: type[Out], *records: object, **computed: Any) -> Out:
    """A response body whose fields are the records' attributes of the same names (the first
    record that has one gives it), but for those in `computed`: a field added to a record and
    its body then needs no third edit here."""
    fields = dict(computed)
    for name in model.model_fields.keys() - computed.keys():
        holder = next((r for r in records if hasattr(r, name)), None)
        if holder is None:
            raise AttributeError(f"{model.__name__}.{name}: no record holds it")
        fields[name] = getattr(holder, name)
    return model.model_validate(fields)


def entry_out(e: LabelEntry) -> LabelEntryOut:
    return _copied(LabelEntryOut, e)


def project_out(p: Project) -> ProjectOut:
    return _copied(
        ProjectOut,
        p,
        project_id=p.ref.project_id,
        label_config=[entry_out(e) for e in p.label_config],
        mapping_rows=len(p.mapping.rows),
    )


def mapping_out(p: Project) -> MappingOut:
    names = {e.id: e.name for e in p.label_config}
    return MappingOut(
        rows=[
            _copied(
                MappingRowOut,
                r,
                detector_class=r.class_name,
                entry_name=names.get(r.entry_id, r.entry_id),
                effective_threshold=p.mapping.threshold_for(r, p.default_threshold),
            )
            for r in p.mapping.rows
        ],
        default_threshold=p.default_threshold,
        bbox_entries=[entry_out(e) for e in bbox_entries(p.label_config)],
    )


def job_out(j: Job) -> JobOut:
    return _copied(JobOut, j, progress=_copied(JobProgressOut, j))


def report_out(r: ImportReport) -> ImportReportOut:
    return _copied(
        ImportReportOut,
        r,
        skipped={
            reason.value: SkippedOut(
                count=t.count, description=reason.description, examples=list(t.examples)
            )
            for reason, t in r.skipped.items()
        },
    )


def dataset_out(d: Dataset, job: Job | None = None) -> DatasetOut:
    return _copied(
        DatasetOut,
        d,
        report=report_out(d.report) if d.report else None,
        job=job_out(job) if job else None,
    )


def counts_out(c: ProjectCounts) -> CountsOut:
    state = c.by_state
    return CountsOut(
        backlog=state.get(LabelingState.BACKLOG, 0),
        waiting=state.get(LabelingState.WAITING, 0),
        in_progress=state.get(LabelingState.IN_PROGRESS, 0),
        completed=state.get(LabelingState.COMPLETED, 0),
        skipped=state.get(LabelingState.SKIPPED, 0),
        total=c.total,
        eligible=c.eligible,
        prelabeled=c.prelabeled,
        failed=c.failed,
    )


def export_link_out(link: ExportLink) -> ExportLinkOut:
    r = link.job.result
    return ExportLinkOut(
        url=link.url,
        expires_in=link.expires_in,
        format=link.format.value,
        job_id=link.job.job_id,
        summary=ExportSummaryOut(
            filename=str(r.get("filename", "")),
            images=int(r.get("images", 0)),
            annotations=int(r.get("annotations", 0)),
            skipped_images=int(r.get("skipped_images", 0)),
            dropped_labels=int(r.get("dropped_labels", 0)),
        ),
    )


def task_out(t: Task) -> TaskOut:
    return _copied(
        TaskOut,
        t,
        prelabel_state=t.prelabel_state.value if t.prelabel_state else None,
        label_count=len(t.labels),
    )


def task_detail_out(t: Task) -> TaskDetailOut:
    return _copied(
        TaskDetailOut,
        t,
        **task_out(t).model_dump(),
        labels=[_copied(LabelOut, lbl, box=lbl.box.as_list()) for lbl in t.labels],
    )


def limit_out(o: Organization) -> LimitOut:
    return _copied(LimitOut, o)


def run_out(r: Run) -> RunProgressOut:
    c = r.counters
    done = c.labeled + c.failed + c.skipped_quota
    return _copied(
        RunProgressOut,
        r,
        c,
        percent=100.0 if c.total == 0 else round(100.0 * done / c.total, 1),
        message=run_message(r),
    )


def start_run_out(o: StartOutcome) -> StartRunOut:
    return _copied(StartRunOut, o, run=run_out(o.run) if o.run else None)


def assistant_out(v: AssistantView) -> AssistantOut:
    return AssistantOut(
        project_id=v.project.ref.project_id,
        mapping=mapping_out(v.project),
        limit=limit_out(v.organization),
        eligible_tasks=v.eligible,
        counts=counts_out(v.counts),
        can_start=v.can_start,
        start_blockers=v.blockers,
        run=run_out(v.run) if v.run else None,
    )
