"""An export job's one step: the whole export streamed into a multipart upload.

Memory stays flat (tasks are read a page at a time, the writer spools what comes last to
/tmp, the upload holds one 8 MiB part); the time grows with the project, about a minute per
100,000 tasks (benchmarks/scale.py), well inside Lambda's 15 minutes up to ~1M tasks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prelabel.domain.jobs import Job, ProgressUnit, StepOutcome, encode_cursor
from prelabel.exports import ExportFormat
from prelabel.ports.jobs import Progress
from prelabel.services.exports import ExportWriter, export_key
from prelabel.services.job_steps import JobContext


def export_step(ctx: JobContext, job: Job, cursor: dict[str, Any]) -> StepOutcome:
    ref = job.project
    fmt = ExportFormat(job.params["format"])
    filename = fmt.filename(ref.project_id)
    key = export_key(ref, job.job_id, filename)
    locations = ctx.locations.locations(ref.org_id)

    def progress(read: int) -> None:
        ctx.jobs.set_progress(ref, job.job_id, Progress(read, job.total, ProgressUnit.TASKS))

    with ctx.exports.open(key, fmt.media_type) as sink:
        summary = ExportWriter(ctx.projects, ctx.tasks).write(
            ref,
            fmt,
            sink,
            datetime.now(UTC).isoformat(timespec="seconds"),
            locations=locations,
            progress=progress,
            progress_every=ctx.limits.export_progress_every,
        )
    ctx.jobs.set_progress(ref, job.job_id, Progress(job.total or 0, job.total, ProgressUnit.TASKS))
    ctx.jobs.set_result(
        ref,
        job.job_id,
        {
            "bucket": ctx.exports.bucket,
            "key": key,
            "filename": filename,
            "format": fmt.value,
            "images": summary.images,
            "annotations": summary.annotations,
            "skipped_images": summary.skipped_images,
            "dropped_labels": summary.dropped_labels,
        },
    )
    return StepOutcome(True, encode_cursor(cursor))
