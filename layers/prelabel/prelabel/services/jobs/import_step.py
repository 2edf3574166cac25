"""An import's slice: up to 10 listing pages (or 10,000 manifest lines) become tasks.

The cursor holds where the listing (continuation token) or the manifest (position) goes on,
the slice number, and running totals; a retried slice starts from the same cursor, derives the
same task ids (existing ones are skipped, not counted again) and rewrites its own report.
"""

from __future__ import annotations

from typing import Any

from prelabel.domain.dataset_sources import require_source, source_of
from prelabel.domain.entities import Dataset, LabelingState, Task
from prelabel.domain.errors import Conflict
from prelabel.domain.ids import now_iso
from prelabel.domain.imports import (
    MAX_IMAGES_PER_DATASET,
    ObjectRef,
    ReportBuilder,
    SkipReason,
    examples_still_wanted,
    is_folder_marker,
    skip_reason,
    task_id_for,
)
from prelabel.domain.jobs import Job, ProgressUnit, SliceProgress, StepOutcome, encode_cursor
from prelabel.domain.manifests import BadLine, parse_line
from prelabel.ports.jobs import Progress
from prelabel.services.jobs.context import JobContext


def import_step(ctx: JobContext, job: Job, cursor: dict[str, Any]) -> StepOutcome:
    ref = job.project
    dataset = ctx.datasets.get(ref, job.params["dataset_id"])
    if dataset.job_id != job.job_id:
        raise Conflict(f"dataset {dataset.dataset_id} is worked on by job {dataset.job_id}")
    locations = ctx.locations.locations(ref.org_id)
    require_source(locations, source_of(dataset))
    slice_no = int(cursor.get("slice", 0))
    accepted = int(cursor.get("images", 0))
    kept: dict[str, int] = dict(cursor.get("examples", {}))
    report = ReportBuilder(examples_still_wanted(kept))
    if dataset.manifest_key is None:
        objects, progress, nxt = _listing_slice(ctx, dataset, cursor)
    else:
        objects, progress, nxt = _manifest_slice(ctx, dataset, cursor, report)
    created = now_iso()
    tasks: list[Task] = []
    for obj in objects:
        if is_folder_marker(obj.key, obj.size):
            continue
        reason = skip_reason(locations, obj)
        if reason is None and accepted >= MAX_IMAGES_PER_DATASET:
            reason = SkipReason.OVER_LIMIT
        if reason is not None:
            report.skipped(reason, obj.key)
            continue
        report.accepted()
        accepted += 1
        task_id = task_id_for(dataset.dataset_id, dataset.generation, obj.bucket, obj.key)
        tasks.append(
            Task(
                ref,
                task_id,
                dataset.dataset_id,
                obj.bucket,
                obj.key,
                LabelingState.BACKLOG,
                created_at=created,
            )
        )
    ctx.tasks.add_dataset_tasks(ref, dataset.dataset_id, job.job_id, tasks)
    built = report.build()
    ctx.jobs.put_slice(job.job_id, slice_no, built)
    for reason, tally in built.skipped.items():
        kept[reason.value] = kept.get(reason.value, 0) + len(tally.examples)
    ctx.jobs.set_progress(ref, job.job_id, Progress(progress.done, progress.total, progress.unit))
    values = {**cursor, **nxt, "slice": slice_no + 1, "images": accepted, "examples": kept}
    return StepOutcome(progress.finished, encode_cursor(values))


def _listing_slice(
    ctx: JobContext, dataset: Dataset, cursor: dict[str, Any]
) -> tuple[list[ObjectRef], SliceProgress, dict[str, Any]]:
    token: str | None = cursor.get("token")
    objects: list[ObjectRef] = []
    for _ in range(ctx.limits.list_pages):
        page = ctx.objects.list_page(
            dataset.bucket, dataset.prefix or "", token, ctx.limits.page_keys
        )
        objects += page.objects
        token = page.next_token
        if token is None:
            break
    seen = int(cursor.get("seen", 0)) + len(objects)
    progress = SliceProgress(seen, None, ProgressUnit.OBJECTS, token is None)
    return objects, progress, {"token": token, "seen": seen}


def _manifest_slice(
    ctx: JobContext, dataset: Dataset, cursor: dict[str, Any], report: ReportBuilder
) -> tuple[list[ObjectRef], SliceProgress, dict[str, Any]]:
    assert dataset.manifest_key is not None
    assert dataset.manifest_format is not None
    read = ctx.objects.read_lines(
        dataset.bucket,
        dataset.manifest_key,
        int(cursor.get("position", 0)),
        ctx.limits.manifest_lines,
    )
    objects: list[ObjectRef] = []
    for raw in read.lines:
        found = parse_line(dataset.manifest_format, raw)
        if isinstance(found, BadLine):
            report.skipped(SkipReason.NOT_AN_OBJECT, found.text)
        elif found is not None:
            objects.append(found)
    progress = SliceProgress(read.bytes_done, read.size, ProgressUnit.BYTES, read.at_end)
    return objects, progress, {"position": read.position}
