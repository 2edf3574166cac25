"""An import's slices: parts of a listing or of a manifest, each read a step at a time (up to 10
listing pages or 10,000 manifest lines) into tasks.

The plan (import_plan.py) cuts a prefix into sub-prefixes and a plain manifest into byte
ranges; a gzip manifest, or a prefix without folders, is one slice read from the start, as the
one-step loop did. A slice's cursor holds where its listing (continuation token) or its range
(line position) goes on, and its running totals; a retried step starts from the same cursor,
derives the same task ids (existing ones are skipped, not counted again) and rewrites its own
report (one per slice and step).
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
from prelabel.domain.jobs import Job, ProgressUnit
from prelabel.domain.locations import OrgLocations
from prelabel.domain.manifests import BadLine, parse_line
from prelabel.domain.slices import SliceStep
from prelabel.ports.jobs import Progress
from prelabel.services.jobs.context import JobContext
from prelabel.services.jobs.import_plan import listing_slices, manifest_slices, read_listing
from prelabel.services.jobs.slices import Phase, Phased, Planned, SliceCall

# Import reports are kept per slice and step: report number = slice x STEPS_PER_SLICE + step.
STEPS_PER_SLICE = 1_000_000


def importing(ctx: JobContext, job: Job) -> tuple[Dataset, OrgLocations]:
    """The job's dataset, while the job owns it, and the organization's locations, while they
    still hold its source (a revoked grant stops the import)."""
    dataset = ctx.datasets.get(job.project, job.params["dataset_id"])
    if dataset.job_id != job.job_id:
        raise Conflict(f"dataset {dataset.dataset_id} is worked on by job {dataset.job_id}")
    locations = ctx.locations.locations(job.project.org_id)
    require_source(locations, source_of(dataset))
    return dataset, locations


class ImportPhase(Phase):
    def plan(self, ctx: JobContext, job: Job) -> Planned:
        dataset, _ = importing(ctx, job)
        if dataset.manifest_key is None:
            specs = listing_slices(ctx, dataset.bucket, dataset.prefix or "")
            return Planned(specs, Progress(0, None, ProgressUnit.OBJECTS))
        size = ctx.objects.size(dataset.bucket, dataset.manifest_key)
        gzip = dataset.manifest_key.lower().endswith(".gz")
        specs = manifest_slices(size, None if gzip else ctx.limits.manifest_slice_bytes)
        return Planned(specs, Progress(0, size, ProgressUnit.BYTES))

    def run(self, ctx: JobContext, job: Job, call: SliceCall) -> SliceStep:
        dataset, locations = importing(ctx, job)
        cursor = call.cursor
        kept: dict[str, int] = dict(cursor.get("examples", {}))
        report = ReportBuilder(examples_still_wanted(kept))
        if dataset.manifest_key is None:
            objects, nxt, finished, progress = read_listing(ctx, dataset.bucket, call)
        else:
            objects, nxt, finished, progress = _manifest_step(ctx, dataset, call, report)
        room = MAX_IMAGES_PER_DATASET - dataset.task_count
        tasks = _tasks(dataset, job, locations, objects, room, report)
        ctx.tasks.add_dataset_tasks(job.project, dataset.dataset_id, job.job_id, tasks)
        built = report.build()
        ctx.jobs.put_slice(job.job_id, call.number * STEPS_PER_SLICE + call.step, built)
        for reason, tally in built.skipped.items():
            kept[reason.value] = kept.get(reason.value, 0) + len(tally.examples)
        return SliceStep({**cursor, **nxt, "examples": kept}, finished, progress)


def _tasks(
    dataset: Dataset,
    job: Job,
    locations: OrgLocations,
    objects: list[ObjectRef],
    room: int,
    report: ReportBuilder,
) -> list[Task]:
    """The step's images as tasks, up to `room` more in the dataset (the dataset's count is
    read as the step starts: slices running at once may pass the limit by a step's images)."""
    created = now_iso()
    tasks: list[Task] = []
    for obj in objects:
        if is_folder_marker(obj.key, obj.size):
            continue
        reason = skip_reason(locations, obj)
        if reason is None and len(tasks) >= room:
            reason = SkipReason.OVER_LIMIT
        if reason is not None:
            report.skipped(reason, obj.key)
            continue
        report.accepted()
        task_id = task_id_for(dataset.dataset_id, dataset.generation, obj.bucket, obj.key)
        tasks.append(
            Task(
                job.project,
                task_id,
                dataset.dataset_id,
                obj.bucket,
                obj.key,
                LabelingState.BACKLOG,
                created_at=created,
            )
        )
    return tasks


def _manifest_step(
    ctx: JobContext, dataset: Dataset, call: SliceCall, report: ReportBuilder
) -> tuple[list[ObjectRef], dict[str, Any], bool, int]:
    """The next lines of the slice's byte range [start, end) of a plain manifest (the lines
    that start in it), or of the whole of a gzip one. Progress counts the range's bytes, so
    the slices' progress adds up to the manifest's size."""
    assert dataset.manifest_key is not None
    assert dataset.manifest_format is not None
    start, end = int(call.spec.get("start", 0)), call.spec.get("end")
    if "position" in call.cursor:
        position = int(call.cursor["position"])
    elif start > 0:
        position = ctx.objects.line_start(dataset.bucket, dataset.manifest_key, start)
    else:
        position = 0
    read = ctx.objects.read_lines(
        dataset.bucket, dataset.manifest_key, position, ctx.limits.manifest_lines, end
    )
    objects: list[ObjectRef] = []
    for raw in read.lines:
        found = parse_line(dataset.manifest_format, raw)
        if isinstance(found, BadLine):
            report.skipped(SkipReason.NOT_AN_OBJECT, found.text)
        elif found is not None:
            objects.append(found)
    if end is None:  # gzip: lines counted, progress in compressed bytes read
        finished, counted = read.at_end, read.bytes_done
    else:
        finished = read.at_end or read.position >= int(end)
        counted = (int(end) if finished else min(read.position, int(end))) - start
    progress = counted - int(call.cursor.get("counted", 0))
    return objects, {"position": read.position, "counted": counted}, finished, progress


IMPORT = Phased((ImportPhase(),))
