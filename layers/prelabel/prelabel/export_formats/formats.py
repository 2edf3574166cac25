"""The formats an export can take, and what an export reports once written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class ExportFormat(StrEnum):
    COCO = "coco"
    YOLO = "yolo"
    YOLO_FLAT = "yolo_flat"
    VOC = "voc"
    LABEL_STUDIO = "labelstudio"

    @property
    def is_archive(self) -> bool:
        """COCO is one JSON document; every other format is a zip of files."""
        return self is not ExportFormat.COCO

    @property
    def media_type(self) -> str:
        return "application/zip" if self.is_archive else "application/json"

    def filename(self, project_id: str) -> str:
        return f"{file_slug(project_id)}-{self.value}.{'zip' if self.is_archive else 'json'}"


def file_slug(project_id: str) -> str:
    """The project id as the start of a file name (what a browser saves the download as)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", project_id) or "project"


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """`images`: images with labels in the export (for COCO and Label Studio every task);
    `skipped_images`: tasks left out because their image size is unknown (the manifest lists
    them); `dropped_labels`: labels of entries that are no longer bbox entries."""

    format: ExportFormat
    project_id: str
    images: int
    annotations: int
    skipped_images: int = 0
    dropped_labels: int = 0

    @property
    def filename(self) -> str:
        return self.format.filename(self.project_id)

    @property
    def media_type(self) -> str:
        return self.format.media_type
