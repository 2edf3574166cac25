"""A reviewed-labels import's steps, each bounded and idempotent:

1. `read`: the file (at most 256 MiB) read once, its images written as slices of 2,000 into the
   job's working files, the reading report kept;
2. `keys`: a slice a step: images matched by bucket and key (or key in any bucket), their
   labels stored; images only a file name could match are set aside;
3. `names` (only when some were set aside): the project's task keys read 50,000 a step into an
   index of the file names those images need (at most two tasks a name: two make it
   ambiguous), so 1,000,000 tasks take 20 steps and memory holds only the names wanted;
4. `later`: the set-aside images matched by file name, a slice a step;
5. `end`: the slices' reports merged into the job's result, the working files removed.

Each slice's report is its own working file, rewritten by a retried step, so the report adds
up to what one pass gives. Cursor: {phase, part, parts, later, after, done, total, format}.
"""

from __future__ import annotations

from typing import Any

from prelabel.domain.errors import InvalidInput, StorageError
from prelabel.domain.jobs import Job, ProgressUnit, StepOutcome, encode_cursor
from prelabel.domain.reviewed_uploads import work_prefix
from prelabel.ports.jobs import Progress
from prelabel.reviewed import ReviewFormat, merge_reports, read_reviewed, sniff_format
from prelabel.reviewed.refs import file_name_of
from prelabel.services.jobs.context import JobContext
from prelabel.services.jobs.reviewed_match import Matcher, queries_of, split_by_key
from prelabel.services.jobs.reviewed_parts import (
    NumberedImage,
    cleared_on_failure,
    decode_images,
    decode_report,
    encode_images,
    encode_report,
    pack,
    part_key,
    unpack,
)
from prelabel.services.jobs.reviewed_result import import_result

Cursor = dict[str, Any]
HITS_KEPT = 2


def reviewed_import_step(ctx: JobContext, job: Job, cursor: Cursor) -> StepOutcome:
    with cleared_on_failure(ctx, job):
        return _phase(ctx, job, cursor)


def _phase(ctx: JobContext, job: Job, cursor: Cursor) -> StepOutcome:
    phase = cursor.get("phase", "read")
    if phase == "read":
        return _read(ctx, job)
    if phase == "keys":
        return _keys(ctx, job, cursor)
    if phase == "names":
        return _names(ctx, job, cursor)
    if phase == "later":
        return _later(ctx, job, cursor)
    return _end(ctx, job, cursor)


def _get(ctx: JobContext, job: Job, kind: str, number: int) -> bytes:
    data = ctx.review.files.get(part_key(job.project, job.job_id, kind, number))
    if data is None:
        raise StorageError(f"the import's working file {kind}-{number} is missing")
    return data


def _put(ctx: JobContext, job: Job, kind: str, number: int, data: bytes) -> None:
    ctx.review.files.put(part_key(job.project, job.job_id, kind, number), data)


def _go(ctx: JobContext, job: Job, cursor: Cursor, **changes: Any) -> StepOutcome:
    values = {**cursor, **changes}
    done, total = int(values.get("done", 0)), int(values.get("total", 0))
    ctx.jobs.set_progress(job.project, job.job_id, Progress(done, total, ProgressUnit.IMAGES))
    return StepOutcome(False, encode_cursor(values))


def _format(job: Job, data: bytes) -> ReviewFormat:
    named = job.params.get("format")
    if named:
        return ReviewFormat(named)
    found = sniff_format(data)
    if found is None:
        choices = ", ".join(f.value for f in ReviewFormat)
        raise InvalidInput(
            f"format: the file looks like none of {choices}; name its format", field="format"
        )
    return found


def _read(ctx: JobContext, job: Job) -> StepOutcome:
    limits = ctx.review.limits
    data = ctx.review.files.read(
        job.params["bucket"], job.params["key"], limits.read.max_file_bytes
    )
    fmt = _format(job, data)
    read = read_reviewed(data, fmt, limits=limits.read, image_field=job.params.get("image_field"))
    del data
    images = [NumberedImage(i, image) for i, image in enumerate(read.images)]
    size = limits.part_images
    parts = (len(images) + size - 1) // size
    for n in range(parts):
        _put(ctx, job, "images", n, encode_images(images[n * size : (n + 1) * size]))
    _put(ctx, job, "report", 0, encode_report(read.report))
    cursor: Cursor = {
        "format": fmt.value,
        "parts": parts,
        "later": [],
        "done": 0,
        "total": len(images),
    }
    return _go(ctx, job, cursor, phase="keys" if parts else "end", part=0)


def _after_keys(ctx: JobContext, job: Job, cursor: Cursor) -> StepOutcome:
    part = int(cursor["part"]) + 1
    if part < int(cursor["parts"]):
        return _go(ctx, job, cursor, part=part)
    if cursor["later"]:
        return _go(ctx, job, cursor, phase="names", after=None)
    return _go(ctx, job, cursor, phase="end")


def _keys(ctx: JobContext, job: Job, cursor: Cursor) -> StepOutcome:
    part = int(cursor["part"])
    matcher = Matcher.of(ctx, job, cursor["format"])
    lookup = matcher.lookup()
    now, later = split_by_key(decode_images(_get(ctx, job, "images", part)), lookup)
    report = matcher.store(now, lookup)
    pending = list(cursor["later"])
    if later:
        _put(ctx, job, "later", part, encode_images(later))
        _put(ctx, job, "names", part, pack(sorted({i.image.ref.file_name for i in later})))
        pending.append(part)
    _put(ctx, job, "report", 1 + part, encode_report(report))
    done = int(cursor["done"]) + len(now)
    return _after_keys(ctx, job, {**cursor, "later": pending, "done": done})


def _names(ctx: JobContext, job: Job, cursor: Cursor) -> StepOutcome:
    """The next tasks' keys into the index of the names wanted (a retried step adds the same
    tasks again, which the index holds already)."""
    after = cursor.get("after")
    if after is None:
        wanted = {
            name for part in cursor["later"] for name in unpack(_get(ctx, job, "names", part))
        }
        _put(ctx, job, "wanted", 0, pack(sorted(wanted)))
        index: dict[str, list[str]] = {}
    else:
        wanted = set(unpack(_get(ctx, job, "wanted", 0)))
        index = unpack(_get(ctx, job, "index", 0))
    page = ctx.review.finder.image_keys(job.project, after, ctx.review.limits.name_scan_tasks)
    for key in page.keys:
        name = file_name_of(key.image_key)
        if name is not None and name in wanted:
            hits = index.setdefault(name, [])
            if key.task_id not in hits and len(hits) < HITS_KEPT:
                hits.append(key.task_id)
    _put(ctx, job, "index", 0, pack(index))
    if page.last is not None:
        return _go(ctx, job, cursor, after=page.last)
    return _go(ctx, job, cursor, phase="later", at=0)


def _later(ctx: JobContext, job: Job, cursor: Cursor) -> StepOutcome:
    at = int(cursor["at"])
    part = int(cursor["later"][at])
    images = decode_images(_get(ctx, job, "later", part))
    matcher = Matcher.of(ctx, job, cursor["format"])
    lookup = matcher.lookup(unpack(_get(ctx, job, "index", 0)))
    lookup.assume_absent({q for i in images for q in queries_of(i)})
    report = matcher.store(images, lookup)
    _put(ctx, job, "report", 1 + int(cursor["parts"]) + part, encode_report(report))
    done = int(cursor["done"]) + len(images)
    if at + 1 < len(cursor["later"]):
        return _go(ctx, job, cursor, at=at + 1, done=done)
    return _go(ctx, job, cursor, phase="end", done=done)


def _end(ctx: JobContext, job: Job, cursor: Cursor) -> StepOutcome:
    ref = job.project
    if "report" not in job.result:  # a retried last step may find it written already
        parts = int(cursor["parts"])
        numbers = [0] + [1 + n for n in range(parts)] + [1 + parts + n for n in cursor["later"]]
        report = merge_reports(decode_report(_get(ctx, job, "report", n)) for n in numbers)
        result = import_result(job, cursor["format"], report)
        ctx.jobs.set_result(ref, job.job_id, result)
        total = int(cursor["total"])
        ctx.jobs.set_progress(ref, job.job_id, Progress(total, total, ProgressUnit.IMAGES))
    ctx.review.files.delete_prefix(work_prefix(ref, job.job_id))
    return StepOutcome(True, encode_cursor(cursor))
