"""A reviewed-labels file, once read, as slices of images in the job's working files.

The import reads the file once and keeps its images in slices (compressed JSON, a few hundred
bytes an image), so every later step reads one slice, not the whole file again. Each image
keeps its position in the file (`ordinal`): the source a stored review names, which tells a
retried write of the same image from another image of the file naming the same task.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prelabel.domain.entities import Box, ProjectRef
from prelabel.domain.errors import DomainError, StorageError
from prelabel.domain.jobs import Job
from prelabel.domain.reviewed_uploads import work_prefix
from prelabel.reviewed import ImageRef, ReadBox, ReviewedImage, ReviewReport
from prelabel.services.jobs.context import JobContext


@dataclass(frozen=True, slots=True)
class NumberedImage:
    ordinal: int
    image: ReviewedImage


def part_key(ref: ProjectRef, job_id: str, kind: str, number: int) -> str:
    """`kind`: `images` (the file's slices), `later` (images left for the file-name pass),
    `report` (a slice's report), `names`, `index`, `tally`."""
    return f"{work_prefix(ref, job_id)}{kind}-{number:06d}.json.z"


@contextmanager
def cleared_on_failure(ctx: JobContext, job: Job) -> Iterator[None]:
    """A failure the user must hear ends the job: its working files go with it. A storage
    failure is retried from the same cursor, and needs them."""
    try:
        yield
    except StorageError:
        raise
    except DomainError:
        ctx.review.files.delete_prefix(work_prefix(job.project, job.job_id))
        raise


def pack(doc: Any) -> bytes:
    return zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 6)


def unpack(data: bytes) -> Any:
    return json.loads(zlib.decompress(data))


def _box_row(b: ReadBox) -> list[Any]:
    return [b.label, *b.box.as_list(), b.place, b.entry_hint, int(b.crowd), int(b.difficult)]


def _box(row: list[Any]) -> ReadBox:
    label, x1, y1, x2, y2, place, hint, crowd, difficult = row
    return ReadBox(label, Box(x1, y1, x2, y2), place, hint, bool(crowd), bool(difficult))


def encode_images(images: Sequence[NumberedImage]) -> bytes:
    rows = []
    for n in images:
        i, ref = n.image, n.image.ref
        boxes = [_box_row(b) for b in i.boxes]
        head = [n.ordinal, ref.written, ref.bucket, ref.key, ref.file_name, i.place]
        rows.append([*head, i.width, i.height, i.dropped, boxes])
    return pack(rows)


def decode_images(data: bytes) -> list[NumberedImage]:
    images = []
    for row in unpack(data):
        ordinal, written, bucket, key, name, place, width, height, dropped, boxes = row
        image = ReviewedImage(
            ImageRef(written, bucket, key, name),
            place,
            width,
            height,
            tuple(_box(b) for b in boxes),
            dropped,
        )
        images.append(NumberedImage(ordinal, image))
    return images


def encode_report(report: ReviewReport) -> bytes:
    return pack(report.as_dict())


def decode_report(data: bytes) -> ReviewReport:
    return ReviewReport.from_dict(unpack(data))
