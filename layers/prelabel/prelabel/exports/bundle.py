"""One entry for every format: the files of an export, and the bytes the API returns."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from prelabel.domain.entities import Project, Task
from prelabel.exports.coco import coco_document
from prelabel.exports.voc import voc_files
from prelabel.exports.yolo import yolo_files

# A fixed timestamp makes the same labels give the same archive, byte for byte.
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


class ExportFormat(StrEnum):
    COCO = "coco"
    YOLO = "yolo"
    VOC = "voc"


@dataclass(frozen=True, slots=True)
class ExportBundle:
    """COCO is one JSON document; YOLO and VOC are a folder of files, returned as a zip."""

    format: ExportFormat
    project_id: str
    files: dict[str, bytes]
    skipped_task_ids: tuple[str, ...] = ()
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def is_archive(self) -> bool:
        return self.format is not ExportFormat.COCO

    @property
    def media_type(self) -> str:
        return "application/zip" if self.is_archive else "application/json"

    @property
    def filename(self) -> str:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.project_id) or "project"
        return f"{slug}-{self.format.value}.{'zip' if self.is_archive else 'json'}"

    def content(self) -> bytes:
        if not self.is_archive:
            (only,) = self.files.values()
            return only
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(self.files):
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, self.files[name])
        return buffer.getvalue()


def build_export(
    project: Project, tasks: Sequence[Task], fmt: ExportFormat, created_at: str
) -> ExportBundle:
    """All of a project's tasks in `fmt`. `created_at` comes from the caller: the domain has no
    clock."""
    pid = project.ref.project_id
    if fmt is ExportFormat.COCO:
        doc = coco_document(project, tasks, created_at)
        body = json.dumps(doc, ensure_ascii=False).encode()
        summary = {
            "images": len(doc["images"]),
            "annotations": len(doc["annotations"]),
            "dropped_labels": doc["info"]["prelabel_dropped_labels"],
        }
        return ExportBundle(fmt, pid, {"annotations.json": body}, (), summary)
    text_files, skipped = (yolo_files if fmt is ExportFormat.YOLO else voc_files)(project, tasks)
    per_image = [n for n in text_files if n.startswith(("labels/", "Annotations/"))]
    summary = {"images": len(per_image), "skipped_images": len(skipped)}
    # The archive says what it left out, so a short export is never mistaken for a full one.
    text_files["prelabel_export.json"] = json.dumps(
        {
            "project_id": pid,
            "project_name": project.name,
            "format": fmt.value,
            "created_at": created_at,
            **summary,
            "skipped_task_ids": skipped,
            "skipped_reason": "image size unknown: the image has not been pre-labeled yet",
        },
        indent=2,
        ensure_ascii=False,
    )
    files = {name: text.encode() for name, text in text_files.items()}
    return ExportBundle(fmt, pid, files, tuple(skipped), summary)
