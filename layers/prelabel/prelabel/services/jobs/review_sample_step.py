"""A review sample job's steps: one pass over the pre-labels drawing the sample, then its file.

Pick (a step per SAMPLE slice of pre-labels, in task-id order): each pre-label's boxes per
class go to a StratifiedSampler (prelabel.quality.sampling), whose state (at most
`boxes_per_class` tasks a class) is stored beside the job's file between steps. A step run
twice adds the same tasks again, which changes nothing. Write (one step): the chosen tasks are
read by id, those outside the organization's data locations left out, and written as the
review tool's file; the job's result names the file and what each class got.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prelabel.domain.entities import Project, Task
from prelabel.domain.errors import Conflict
from prelabel.domain.jobs import Job, ProgressUnit, StepOutcome, encode_cursor
from prelabel.domain.label_config import bbox_entries
from prelabel.domain.locations import is_readable
from prelabel.export_formats.review_files import ReviewFileFormat, write_review_file
from prelabel.ports.jobs import Progress
from prelabel.quality.sampling import ClassDraw, StratifiedSampler
from prelabel.services.jobs.context import JobContext
from prelabel.services.jobs.export_step import export_key

STATE_NAME = "sample-state.json"
READ_BY_ID = 500


def review_sample_step(ctx: JobContext, job: Job, cursor: dict[str, Any]) -> StepOutcome:
    if cursor.get("phase") == "write":
        return _write(ctx, job, cursor)
    return _pick(ctx, job, cursor)


def _state_key(job: Job) -> str:
    return export_key(job.project, job.job_id, STATE_NAME)


def _load(ctx: JobContext, job: Job) -> StratifiedSampler:
    stored = ctx.exports.read_if_any(_state_key(job))
    if stored is None:
        raise Conflict("the sample's state between its steps is gone; start a new sample")
    return StratifiedSampler.from_dict(json.loads(stored))


def _pick(ctx: JobContext, job: Job, cursor: dict[str, Any]) -> StepOutcome:
    ref = job.project
    classes = {e.id for e in bbox_entries(ctx.projects.get(ref).label_config)}
    if cursor:
        sampler = _load(ctx, job)
    else:
        sampler = StratifiedSampler(int(job.params["boxes_per_class"]), int(job.params["seed"]))
    read = int(cursor.get("read", 0))
    after = cursor.get("after")
    start = after if isinstance(after, str) else None
    part = ctx.tasks.prelabel_classes(ref, start, ctx.limits.sample_prelabels)
    for task_id, counts in part.tasks:
        # Boxes of entries that are no longer bbox entries have no place in the file.
        sampler.add(task_id, {c: n for c, n in counts.items() if c in classes})
    with ctx.exports.open(_state_key(job), "application/json") as sink:
        sink.write(json.dumps(sampler.to_dict(), separators=(",", ":")).encode())
    read += len(part.tasks)
    ctx.jobs.set_progress(ref, job.job_id, Progress(read, job.total, ProgressUnit.TASKS))
    if part.after is None:
        return StepOutcome(False, encode_cursor({"phase": "write", "read": read}))
    return StepOutcome(False, encode_cursor({"phase": "pick", "after": part.after, "read": read}))


def _write(ctx: JobContext, job: Job, cursor: dict[str, Any]) -> StepOutcome:
    ref = job.project
    project = ctx.projects.get(ref)
    sampler = _load(ctx, job)
    fmt = ReviewFileFormat(job.params["format"])
    filename = fmt.filename(ref.project_id)
    key = export_key(ref, job.job_id, filename)
    locations = ctx.locations.locations(ref.org_id)
    boxes: Counter[str] = Counter()

    def tasks() -> Iterator[Task]:
        chosen = sampler.chosen()
        for start in range(0, len(chosen), READ_BY_ID):
            for task in ctx.tasks.get_many(ref, chosen[start : start + READ_BY_ID]):
                if is_readable(locations, task.bucket, task.image_key):
                    boxes.update(label.entry_id for label in task.labels)
                    yield task

    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    with ctx.exports.open(key, "application/zip") as sink:
        summary = write_review_file(project, tasks(), fmt, sink, created_at)
    report = class_report(project, sampler, boxes)
    result: dict[str, str | int] = {
        "bucket": ctx.exports.bucket,
        "key": key,
        "filename": filename,
        "format": fmt.value,
        "tasks": summary.images,
        "boxes": summary.annotations,
        "boxes_per_class": sampler.boxes,
        "seed": sampler.seed,
        "prelabels_read": int(cursor.get("read", 0)),
        "short_classes": sum(1 for c in report if c["short"]),
        "classes": json.dumps(report, separators=(",", ":")),
    }
    ctx.jobs.set_result(ref, job.job_id, result)
    return StepOutcome(True, encode_cursor(cursor))


def class_report(
    project: Project, sampler: StratifiedSampler, boxes: Counter[str]
) -> list[dict[str, Any]]:
    """Per bbox entry that is mapped or has boxes: the target, the boxes in the sample (from
    every task in it, not only those drawn for the class), the tasks drawn for it, and why it
    ran short when it did."""
    draws = {d.class_key: d for d in sampler.draws()}
    mapped = {row.entry_id for row in project.mapping.rows}
    out = []
    for entry in bbox_entries(project.label_config):
        draw = draws.get(entry.id)
        if draw is None and entry.id not in mapped:
            continue
        out.append(_class_line(entry.id, entry.name, sampler.boxes, draw, boxes[entry.id]))
    return out


def _class_line(
    entry_id: str, name: str, target: int, draw: ClassDraw | None, in_sample: int
) -> dict[str, Any]:
    if draw is None:
        why: str | None = f"no pre-label holds a box of {name}"
    elif draw.short:
        boxes = "box" if draw.boxes == 1 else "boxes"
        why = f"the project's pre-labels hold only {draw.boxes} {boxes} of {name} (all taken)"
    else:
        why = None
    return {
        "entry_id": entry_id,
        "name": name,
        "target": target,
        "boxes": in_sample,
        "tasks": len(draw.tasks) if draw else 0,
        "short": why is not None,
        "why": why,
    }
