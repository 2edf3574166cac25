"""The one entry for every format: a file's bytes in, its reviewed images and a report out."""

from __future__ import annotations

import re

from prelabel.reviewed.coco import read_coco_document
from prelabel.reviewed.inputs import Archive, is_noise, load_json
from prelabel.reviewed.labelstudio import read_label_studio
from prelabel.reviewed.model import (
    DEFAULT_LIMITS,
    ReadLimits,
    ReviewedFile,
    ReviewedFileError,
    ReviewFormat,
)
from prelabel.reviewed.reading import Reading
from prelabel.reviewed.voc import read_voc

_CVAT_COCO = re.compile(r"^(?:.*/)?annotations/instances_[^/]+\.json$", re.IGNORECASE)
_VOC = re.compile(r"^(?:.*/)?Annotations/.+\.xml$", re.IGNORECASE)
ZIP_MAGIC = b"PK\x03\x04"


def read_reviewed(
    data: bytes,
    fmt: ReviewFormat,
    *,
    limits: ReadLimits = DEFAULT_LIMITS,
    image_field: str | None = None,
) -> ReviewedFile:
    """Every image of the file `data` (in format `fmt`) that people reviewed, with its boxes.

    `image_field` names Label Studio's data field holding the image (found when not given).
    Raises ReviewedFileError, naming the place, for a file that cannot be read as a whole
    (too large, not the format, a DOCTYPE, a zip entry leading outside); a problem with one
    image or one box is counted in the report instead, with examples."""
    if len(data) > limits.max_file_bytes:
        raise ReviewedFileError(
            "file", f"{len(data):,} bytes; at most {limits.max_file_bytes:,} are read"
        )
    reading = Reading(limits)
    if fmt is ReviewFormat.COCO:
        read_coco_document(load_json(data, "file", limits), reading)
    elif fmt is ReviewFormat.LABEL_STUDIO:
        read_label_studio(load_json(data, "file", limits), reading, image_field)
    elif fmt is ReviewFormat.CVAT_COCO:
        _read_cvat_coco(Archive(data, limits), reading)
    else:
        read_voc(Archive(data, limits), reading)
    return ReviewedFile(fmt, tuple(reading.images), reading.report.build())


def _read_cvat_coco(archive: Archive, reading: Reading) -> None:
    """Every `annotations/instances_<subset>.json` of the zip (CVAT writes one per subset:
    default, train, val); `images/` and other files are not read."""
    members = sorted(
        (item for item in archive.members if _CVAT_COCO.match(item[0]) and not is_noise(item[0])),
        key=lambda item: item[0],
    )
    if not members:
        raise ReviewedFileError(
            "file",
            "no annotations/instances_<subset>.json in the zip; is this CVAT's COCO 1.0 export?",
        )
    for name, info in members:
        data = archive.read(name, info, reading.limits.max_json_bytes)
        read_coco_document(load_json(data, name, reading.limits), reading, f"{name}: ")


def sniff_format(data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> ReviewFormat | None:
    """The format the file looks like from its first bytes and, for a zip, its entries' names
    (nothing is unpacked); None when it looks like none."""
    if data.startswith(ZIP_MAGIC):
        try:
            names = [name for name, _ in Archive(data, limits).members if not is_noise(name)]
        except ReviewedFileError:
            return None
        if any(_CVAT_COCO.match(n) for n in names):
            return ReviewFormat.CVAT_COCO
        return ReviewFormat.VOC if any(_VOC.match(n) for n in names) else None
    head = data[:4096].decode("utf-8-sig", errors="ignore").lstrip()
    if head.startswith("["):
        return ReviewFormat.LABEL_STUDIO
    return ReviewFormat.COCO if head.startswith("{") else None
