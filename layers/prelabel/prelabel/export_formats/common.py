"""What every format shares: which labels are exported, under which category, in which file."""

from __future__ import annotations

from collections.abc import Mapping
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

    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]


@dataclass(slots=True)
class Tally:
    """What a writer put in the export, counted as it goes."""

    images: int = 0
    annotations: int = 0
    skipped_images: int = 0
    dropped_labels: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "images": self.images,
            "annotations": self.annotations,
            "skipped_images": self.skipped_images,
            "dropped_labels": self.dropped_labels,
        }


def exported_labels(task: Task, categories: Categories, tally: Tally) -> list[tuple[int, Label]]:
    """Labels whose entry is still a bbox entry of the project, with their class index, counted
    into `tally.annotations`; others have no category to go to (the configuration changed after
    pre-labeling) and are counted into `tally.dropped_labels`."""
    out = []
    for label in task.labels:
        index = categories.index(label.entry_id)
        if index is not None:
            out.append((index, label))
    tally.dropped_labels += len(task.labels) - len(out)
    tally.annotations += len(out)
    return out


def has_size(task: Task) -> bool:
    return bool(task.image_width and task.image_height)


def size_of(task: Task) -> tuple[int, int]:
    if not (task.image_width and task.image_height):
        raise ValueError(f"task {task.task_id}: image size unknown; callers filter with has_size")
    return task.image_width, task.image_height


def clipped(box: Box, width: int, height: int) -> Box:
    """Formats that are relative to the image (YOLO, Label Studio) or integer pixels (VOC) must
    stay inside it."""
    x1, x2 = sorted((min(max(box.x1, 0.0), width), min(max(box.x2, 0.0), width)))
    y1, y2 = sorted((min(max(box.y1, 0.0), height), min(max(box.y2, 0.0), height)))
    return Box(x1, y1, x2, y2)


def image_uri(task: Task) -> str:
    return f"s3://{task.bucket}/{task.image_key}"


def one_line(text: str) -> str:
    """Entry names go into line-based files (classes.txt, labelmap.txt); a line break inside a
    name would make two classes of one."""
    return " ".join(text.splitlines())


def _safe_parts(key: str) -> list[str]:
    # Image keys come from S3 listings and may hold "..", empty or absolute segments; a file name
    # inside an archive must never climb out of its folder when someone unzips it.
    return [p for p in key.replace("\\", "/").split("/") if p not in ("", ".", "..")]


def _safe_id(value: str) -> str:
    return value.replace("/", "_").replace("\\", "_")


class FileNames:
    """Unique names for each task's files, without extension, chosen one task at a time.

    Nested names mirror the image key (`street/a`); flat ones are the file stem alone (`a`).
    On a clash (two datasets from different buckets with the same keys, or two folders with the
    same file name when flat) the dataset id is added, then the task id. Names are compared
    without case, so the files stay distinct on case-insensitive file systems. The set of names
    already given is the only memory kept, which is what lets a writer stream its tasks.

    `renamed_dirs` renames folder segments of nested names: Ultralytics finds an image's label
    file by replacing the last `/images/` of its path with `/labels/`, so a key with a folder
    named `images` must not keep that name under `images/`.
    """

    def __init__(self, *, flat: bool, renamed_dirs: Mapping[str, str] | None = None) -> None:
        self._flat = flat
        self._renamed = dict(renamed_dirs or {})
        self._used: set[str] = set()

    def candidates(self, task: Task) -> list[str]:
        """The task's name, then its names should an earlier task have taken it."""
        parts = _safe_parts(task.image_key) or [task.task_id]
        stem = PurePosixPath(parts[-1]).stem or task.task_id
        folders = [self._renamed.get(p, p) for p in parts[:-1]]
        dataset, tid = _safe_id(task.dataset_id), _safe_id(task.task_id)
        if self._flat:
            return [stem, f"{stem}-{dataset}", f"{stem}-{tid}"]
        return [
            "/".join([*folders, stem]),
            "/".join([dataset, *folders, stem]),
            "/".join([dataset, *folders, f"{stem}-{tid}"]),
        ]

    def name(self, task: Task) -> str:
        candidates = self.candidates(task)
        chosen = next((c for c in candidates if c.casefold() not in self._used), None)
        n = 2
        while chosen is None:  # only when an image is literally named like another's fallback
            candidate = f"{candidates[-1]}-{n}"
            chosen = candidate if candidate.casefold() not in self._used else None
            n += 1
        self._used.add(chosen.casefold())
        return chosen


class RankedNames(FileNames):
    """Names chosen without seeing the other tasks, for an export written in slices: a pass
    before it found which tasks share a name (without case), and each task's rank among them
    in task-id order (the order a one-slice export names them in). The first keeps the name,
    the second takes the dataset's, the others their task id's: what FileNames gives them."""

    def __init__(
        self,
        ranks: Mapping[str, int],
        *,
        flat: bool,
        renamed_dirs: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(flat=flat, renamed_dirs=renamed_dirs)
        self._ranks = ranks

    def name(self, task: Task) -> str:
        candidates = self.candidates(task)
        return candidates[min(self._ranks.get(task.task_id, 0), len(candidates) - 1)]


def image_suffix(task: Task) -> str:
    """The image's extension as stored (`.jpg`, `.PNG`): the file a user puts in place is the
    S3 object itself. Dataset listings only take keys with an image extension."""
    return PurePosixPath(task.image_key).suffix
