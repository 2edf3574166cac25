"""What an archive format writes, in parts that can be written in one go or in slices (an export
of many tasks written by several functions at once, export_formats/slices.py):

- fixed members, written once (classes.txt, data.yaml, an empty images/ folder, ...);
- each task's own members (a YOLO label file, a VOC annotation);
- items each task adds to a member made of every task's (VOC's image set, Label Studio's
  tasks.json) and to the manifest's two lists (`files`, `skipped_task_ids`): streams, each an
  opening, the items with a separator between them, and a closing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

from prelabel.domain.entities import Project, Task
from prelabel.export_formats.common import Categories, FileNames, RankedNames, Tally, has_size
from prelabel.export_formats.streams import Stream


@dataclass(frozen=True, slots=True)
class Naming:
    """How a format names its files (FileNames' options); none for formats without files."""

    flat: bool
    renamed_dirs: Mapping[str, str] = field(default_factory=dict)

    def chooser(self, ranks: Mapping[str, int] | None = None) -> FileNames:
        if ranks is None:
            return FileNames(flat=self.flat, renamed_dirs=self.renamed_dirs)
        return RankedNames(ranks, flat=self.flat, renamed_dirs=self.renamed_dirs)


class TaskOut(ABC):
    """Where a task's parts go: an archive and its manifest, or a slice's part."""

    def __init__(self, categories: Categories, names: FileNames | None) -> None:
        self.categories = categories
        self._names = names
        self.tally = Tally()

    def name(self, task: Task) -> str:
        assert self._names is not None, "this format names no files"
        return self._names.name(task)

    @abstractmethod
    def entry(self, name: str, data: str | bytes) -> None:
        """A member of the task's own."""

    @abstractmethod
    def item(self, stream: str, data: bytes) -> None:
        """An item of the stream `stream`, as its bytes (without the separator)."""

    @abstractmethod
    def file(self, task: Task, image: str | None, annotation: str) -> None:
        """The manifest's entry of the task's files."""

    @abstractmethod
    def skip(self, task: Task) -> None:
        """The manifest's note of a task left out."""


class ZipFormat(ABC):
    # Tasks of unknown image size are left out (and listed as skipped in the manifest).
    sized: bool = False
    # How files are named (None: the format names no files).
    naming: Naming | None = None
    # Members made of every task's items, written after the tasks' own, in this order.
    streams: tuple[Stream, ...] = ()
    # Whether tasks write members of their own (else the first stream is written as they come).
    entries: bool = True

    @abstractmethod
    def fixed(self, project: Project, categories: Categories) -> list[tuple[str, str | None]]:
        """Members written once, before the tasks' (None: an empty folder)."""

    @abstractmethod
    def task(self, task: Task, out: TaskOut) -> None:
        """One task's parts."""

    def write_task(self, task: Task, out: TaskOut) -> None:
        if self.sized and not has_size(task):
            out.tally.skipped_images += 1
            out.skip(task)
            return
        self.task(task, out)
        out.tally.images += 1
