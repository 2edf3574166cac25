"""What every format shares: which labels are exported, under which category, in which file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from prelabel.domain.entities import Box, Label, Project, Task
from prelabel.domain.label_config import LabelEntry, bbox_entries


@dataclass(frozen=True, slots=True)
class Categories:
    """The project's bbox entries in configuration order; the order is the YOLO class index."""

    entries: tuple[LabelEntry, ...]

    @classmethod
    def of(cls, project: Project) -> Categories:
        return cls(bbox_entries(project.label_config))

    def index(self, entry_id: str) -> int | None:
        for i, entry in enumerate(self.entries):
            if entry.id == entry_id:
                return i
        return None


def exported_labels(task: Task, categories: Categories) -> list[tuple[int, Label]]:
    """Labels whose entry is still a bbox entry of the project; others have no category to go to
    (the configuration changed after pre-labeling) and are counted as dropped by the caller."""
    out = []
    for label in task.labels:
        index = categories.index(label.entry_id)
        if index is not None:
            out.append((index, label))
    return out


def has_size(task: Task) -> bool:
    return bool(task.image_width and task.image_height)


def size_of(task: Task) -> tuple[int, int]:
    if not (task.image_width and task.image_height):
        raise ValueError(f"task {task.task_id}: image size unknown; callers filter with has_size")
    return task.image_width, task.image_height


def clipped(box: Box, width: int, height: int) -> Box:
    """Formats that are relative to the image (YOLO) or integer pixels (VOC) must stay inside it."""
    x1, x2 = sorted((min(max(box.x1, 0.0), width), min(max(box.x2, 0.0), width)))
    y1, y2 = sorted((min(max(box.y1, 0.0), height), min(max(box.y2, 0.0), height)))
    return Box(x1, y1, x2, y2)


def _safe_parts(key: str) -> list[str]:
    # Image keys come from S3 listings and may hold "..", empty or absolute segments; a file name
    # inside an archive must never climb out of its folder when someone unzips it.
    return [p for p in key.replace("\\", "/").split("/") if p not in ("", ".", "..")]


def file_stems(tasks: Sequence[Task]) -> dict[str, str]:
    """task_id -> a unique relative path without extension, mirroring the image key.

    Keys are unique within a bucket, but two datasets may come from different buckets with the
    same keys; those get their dataset id in front, and the task id as a last resort.
    """
    stems: dict[str, str] = {}
    used: set[str] = set()
    for task in tasks:
        parts = _safe_parts(task.image_key) or [task.task_id]
        parts[-1] = PurePosixPath(parts[-1]).stem or task.task_id
        candidates = (
            "/".join(parts),
            "/".join([task.dataset_id, *parts]),
            "/".join([task.dataset_id, *parts[:-1], f"{parts[-1]}-{task.task_id}"]),
        )
        stem = next((c for c in candidates if c not in used), candidates[-1])
        used.add(stem)
        stems[task.task_id] = stem
    return stems
