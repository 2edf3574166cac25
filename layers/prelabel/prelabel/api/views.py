"""Domain records -> response bodies."""

from __future__ import annotations

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
from prelabel.domain.imports import ImportReport
from prelabel.domain.jobs import Job
from prelabel.domain.label_config import LabelEntry, bbox_entries
from prelabel.domain.run_rules import run_message
from prelabel.services.assistant import AssistantView
from prelabel.services.exports import ExportLink


def entry_out(e: LabelEntry) -> LabelEntryOut:
    return LabelEntryOut(id=e.id, name=e.name, geometry=e.geometry)


def project_out(p: Project) -> ProjectOut:
    return ProjectOut(
        project_id=p.ref.project_id,
        name=p.name,
        label_config=[entry_out(e) for e in p.label_config],
        default_threshold=p.default_threshold,
        mapping_rows=len(p.mapping.rows),
        active_run_id=p.active_run_id,
        created_at=p.created_at,
    )


def mapping_out(p: Project) -> MappingOut:
    names = {e.id: e.name for e in p.label_config}
    return MappingOut(
        rows=[
            MappingRowOut(
                detector_class=r.class_name,
                class_id=r.class_id,
                entry_id=r.entry_id,
                entry_name=names.get(r.entry_id, r.entry_id),
                min_confidence=r.min_confidence,
                effective_threshold=p.mapping.threshold_for(r, p.default_threshold),
            )
            for r in p.mapping.rows
        ],
        default_threshold=p.default_threshold,
        bbox_entries=[entry_out(e) for e in bbox_entries(p.label_config)],
    )


def job_out(j: Job) -> JobOut:
    return JobOut(
        job_id=j.job_id,
        kind=j.kind,
        status=j.status,
        params=j.params,
        progress=JobProgressOut(done=j.done, total=j.total, unit=j.unit, percent=j.percent),
        result=j.result,
        error=j.error,
        created_at=j.created_at,
        finished_at=j.finished_at,
    )


def report_out(r: ImportReport) -> ImportReportOut:
    return ImportReportOut(
        objects=r.objects,
        images=r.images,
        skipped={
            reason.value: SkippedOut(
                count=t.count, description=reason.description, examples=list(t.examples)
            )
            for reason, t in r.skipped.items()
        },
    )


def dataset_out(d: Dataset, job: Job | None = None) -> DatasetOut:
    return DatasetOut(
        dataset_id=d.dataset_id,
        bucket=d.bucket,
        prefix=d.prefix,
        manifest_key=d.manifest_key,
        manifest_format=d.manifest_format,
        status=d.status,
        failure=d.failure,
        task_count=d.task_count,
        generation=d.generation,
        connected_at=d.connected_at,
        job_id=d.job_id,
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
    return TaskOut(
        task_id=t.task_id,
        dataset_id=t.dataset_id,
        image_key=t.image_key,
        state=t.state,
        prelabeled=t.prelabeled,
        prelabel_state=t.prelabel_state.value if t.prelabel_state else None,
        prelabel_reason=t.prelabel_reason,
        label_count=len(t.labels),
    )


def task_detail_out(t: Task) -> TaskDetailOut:
    return TaskDetailOut(
        **task_out(t).model_dump(),
        bucket=t.bucket,
        image_width=t.image_width,
        image_height=t.image_height,
        labels=[
            LabelOut(
                label_id=lbl.label_id,
                entry_id=lbl.entry_id,
                entry_name=lbl.entry_name,
                box=lbl.box.as_list(),
                detector_class=lbl.detector_class,
                score=lbl.score,
                model_name=lbl.model_name,
                model_version=lbl.model_version,
                source=lbl.source,
            )
            for lbl in t.labels
        ],
    )


def limit_out(o: Organization) -> LimitOut:
    return LimitOut(
        plan=o.plan, monthly_limit=o.monthly_limit, remaining=o.remaining, period=o.period
    )


def run_out(r: Run) -> RunProgressOut:
    c = r.counters
    done = c.labeled + c.failed + c.skipped_quota
    return RunProgressOut(
        run_id=r.run_id,
        status=r.status,
        total=c.total,
        labeled=c.labeled,
        failed=c.failed,
        skipped_quota=c.skipped_quota,
        left=c.left,
        percent=100.0 if c.total == 0 else round(100.0 * done / c.total, 1),
        started_at=r.started_at,
        finished_at=r.finished_at,
        message=run_message(r),
    )


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
