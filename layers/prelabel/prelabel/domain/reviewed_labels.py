"""Reviewed labels as Prelabel keeps them: per task, the boxes people kept, corrected or drew in
a review tool, stored apart from the task's pre-label (which they never replace).

A task has at most one set of reviewed labels: importing it again replaces it. Each set says
which import job wrote it and which image of that job's file (`source`, the image's position in
the file), so a job that meets the same task twice can tell a retried write of its own (same
image) from a second image of the file naming the same task (a duplicate).
"""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.entities import Box


@dataclass(frozen=True, slots=True)
class StoredBox:
    """One reviewed box under a bbox entry, in pixels of the image as displayed. `crowd`
    (COCO's iscrowd) and `difficult` (VOC's) are kept: evaluations ignore such objects."""

    entry_id: str
    entry_name: str
    box: Box
    crowd: bool = False
    difficult: bool = False


@dataclass(frozen=True, slots=True)
class TaskReview:
    """A task's reviewed labels (no box: people found no object), the file format they came
    in, the import job and image that wrote them, and when. `dropped` counts boxes of that
    image that were not imported (unknown label, unreadable): the set is then incomplete."""

    task_id: str
    boxes: tuple[StoredBox, ...]
    format: str
    job_id: str
    imported_at: str
    source: int
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class ReviewWrite:
    """What one write of reviewed labels did, per task id: `written` now; `kept`, written
    before by the same job and image (a retried step: nothing changed); `duplicates`, taken
    by another image of the same job's file (not written); `gone`, deleted since they were
    matched (their dataset disconnected: not written)."""

    written: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    gone: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewedCount:
    """Tasks with reviewed labels, and how many times any of them was written (re-imports
    included): a report computed at one `changes` is stale once it moves."""

    tasks: int = 0
    changes: int = 0
