"""A large export in slices: ranges of task ids written at the same time, then spliced into the
file (a small one, up to StepLimits.export_slice_tasks tasks, is export_step's one step).

Two phases. The names pass: each slice reads its tasks' images and writes, sorted, the name
each would take and its task id; the merge walks the slices' lists together and finds the
tasks that share a name (without case), giving each its rank among them in task-id order (the
order a one-slice export names them in: export_formats.common.RankedNames). The writing pass:
each slice writes its part (export_formats/slices.py), naming its files by those ranks; the
merge splices the parts into the export (export_formats/assembly.py) with UploadPartCopy and
deletes them. A retried slice rewrites its part whole; the splice only reads what the
finished slices said.
"""

from __future__ import annotations

import heapq
import json
from bisect import bisect_right
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prelabel.domain.entities import Task
from prelabel.domain.jobs import Job, ProgressUnit
from prelabel.domain.locations import is_readable
from prelabel.domain.slices import MAX_SLICES, SliceState, SliceStep, id_ranges, job_folder
from prelabel.export_formats import ExportFormat
from prelabel.export_formats.assembly import SlicePart, coco_pieces, zip_pieces
from prelabel.export_formats.common import FileNames, has_size
from prelabel.export_formats.parts import Naming
from prelabel.export_formats.slices import tally_of, write_coco_slice, write_zip_slice
from prelabel.export_formats.writer import ZIP_FORMATS, summary_of
from prelabel.ports.jobs import Progress
from prelabel.ports.tasks import TaskSpan
from prelabel.services.jobs.context import JobContext
from prelabel.services.jobs.export_step import export_key, export_result, export_step
from prelabel.services.jobs.slices import Phase, Phased, Planned, SliceCall

COCO_NAMING = Naming(flat=False)


def _format(job: Job) -> ExportFormat:
    return ExportFormat(job.params["format"])


def _naming(fmt: ExportFormat) -> Naming | None:
    return COCO_NAMING if fmt is ExportFormat.COCO else ZIP_FORMATS[fmt].naming


def _sized(fmt: ExportFormat) -> bool:
    return fmt is not ExportFormat.COCO and ZIP_FORMATS[fmt].sized


def staging(job: Job, name: str, number: int) -> str:
    ref = job.project
    return f"{job_folder(ref.org_id, ref.project_id, job.job_id)}/parts/{name}-{number:06d}"


def range_specs(ctx: JobContext, job: Job) -> list[dict[str, Any]]:
    count = min(MAX_SLICES, -(-(job.total or 0) // ctx.limits.export_slice_tasks))
    return [{"first": a, "before": b} for a, b in id_ranges(count)]


def is_small(ctx: JobContext, job: Job) -> bool:
    return (job.total or 0) <= ctx.limits.export_slice_tasks


def _tasks(ctx: JobContext, job: Job, spec: dict[str, Any], *, labels: bool) -> Iterator[Task]:
    """The slice's tasks whose image lies in the organization's data locations (an export never
    names another's image)."""
    locations = ctx.locations.locations(job.project.org_id)
    span = TaskSpan(spec.get("first"), spec.get("before"))
    for task in ctx.tasks.tasks_in_span(job.project, span, labels=labels):
        if is_readable(locations, task.bucket, task.image_key):
            yield task


class NamesPhase(Phase):
    def plan(self, ctx: JobContext, job: Job) -> Planned:
        if _naming(_format(job)) is None:
            return Planned([])  # Label Studio names no files
        return Planned(range_specs(ctx, job), Progress(0, job.total, ProgressUnit.TASKS))

    def run(self, ctx: JobContext, job: Job, call: SliceCall) -> SliceStep:
        fmt = _format(job)
        naming = _naming(fmt)
        assert naming is not None
        names = naming.chooser()
        read = 0
        found: list[tuple[str, str]] = []
        for task in _tasks(ctx, job, call.spec, labels=_sized(fmt)):
            read += 1
            if not _sized(fmt) or has_size(task):
                found.append((names.candidates(task)[0].casefold(), task.task_id))
        found.sort()
        with ctx.exports.open(staging(job, "names", call.number), "application/x-ndjson") as out:
            for entry in found:
                out.write(json.dumps(entry, ensure_ascii=False).encode() + b"\n")
        return SliceStep({}, finished=True, progress=read)

    def merge(self, ctx: JobContext, job: Job, states: dict[int, SliceState]) -> None:
        """The tasks that share a name, each slice's, with their rank (only ranks past 0)."""
        if _naming(_format(job)) is None:
            return
        specs = range_specs(ctx, job)
        firsts = [s["first"] or "" for s in specs]
        ranks: list[dict[str, int]] = [{} for _ in specs]
        lists = [
            (tuple(json.loads(line)) for line in ctx.exports.lines(staging(job, "names", n)))
            for n in range(len(specs))
        ]
        name, rank = None, 0
        for entry_name, task_id in heapq.merge(*lists):
            rank = rank + 1 if entry_name == name else 0
            name = entry_name
            if rank:
                ranks[bisect_right(firsts, task_id) - 1][task_id] = rank
        for n, mine in enumerate(ranks):
            with ctx.exports.open(staging(job, "ranks", n), "application/json") as out:
                out.write(json.dumps(mine).encode())


def _names(ctx: JobContext, job: Job, number: int) -> FileNames | None:
    naming = _naming(_format(job))
    if naming is None:
        return None
    ranks: dict[str, int] = json.loads(ctx.exports.read(staging(job, "ranks", number)))
    return naming.chooser(ranks)


class WritePhase(Phase):
    def plan(self, ctx: JobContext, job: Job) -> Planned:
        return Planned(range_specs(ctx, job), Progress(0, job.total, ProgressUnit.TASKS))

    def run(self, ctx: JobContext, job: Job, call: SliceCall) -> SliceStep:
        fmt = _format(job)
        project = ctx.projects.get(job.project)
        names = _names(ctx, job, call.number)
        counted = _Counted(_tasks(ctx, job, call.spec, labels=True))
        key = staging(job, "part", call.number)
        with ctx.exports.open(key, "application/octet-stream") as sink:
            if fmt is ExportFormat.COCO:
                assert names is not None
                output = write_coco_slice(project, counted, sink, names, call.number)
            else:
                output = write_zip_slice(ZIP_FORMATS[fmt], project, counted, sink, names)
        return SliceStep({}, finished=True, progress=counted.read, output=output)

    def merge(self, ctx: JobContext, job: Job, states: dict[int, SliceState]) -> None:
        """The file spliced from the parts, its summary on the job, then the parts deleted (a
        retry after the splice, the parts maybe gone, finds the job's result and splices
        nothing again)."""
        fmt = _format(job)
        key = export_key(job.project, job.job_id, fmt.filename(job.project.project_id))
        if job.result.get("key") != key:
            project = ctx.projects.get(job.project)
            parts = [SlicePart(staging(job, "part", n), states[n].output) for n in sorted(states)]
            created = datetime.now(UTC).isoformat(timespec="seconds")
            if fmt is ExportFormat.COCO:
                pieces = coco_pieces(project, parts, created)
            else:
                zf = ZIP_FORMATS[fmt]
                pieces = zip_pieces(zf, fmt, project, parts, created, ctx.exports.read)
            ctx.exports.splice(key, fmt.media_type, pieces)
            summary = summary_of(fmt, project, tally_of(p.output for p in parts))
            ctx.jobs.set_result(job.project, job.job_id, export_result(ctx, key, summary))
        names = ("part", "names", "ranks")
        ctx.exports.remove(staging(job, kind, n) for kind in names for n in sorted(states))


class _Counted:
    """The tasks of a slice, counting them as they are read (the slice's progress)."""

    def __init__(self, tasks: Iterator[Task]) -> None:
        self._tasks = tasks
        self.read = 0

    def __iter__(self) -> Iterator[Task]:
        for task in self._tasks:
            self.read += 1
            yield task


EXPORT = Phased((NamesPhase(), WritePhase()), alone=export_step, alone_when=is_small)
