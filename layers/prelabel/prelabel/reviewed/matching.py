"""Reviewed images -> the project's tasks, and their boxes' labels -> the project's entries.

An image is matched, in order, by:
1. bucket and key, where the file names one S3 object (`s3://` URI, S3 URL, Prelabel's
   fields);
2. its key (or path) in any bucket of the project;
3. its file name (the key's last segment).
The first rule that finds one task decides; a rule that finds several tasks makes the image
ambiguous (not imported), since a later, looser rule cannot tell them apart either. So keys
win over file names, and a file name is only used where exactly one task has it. A matched
image whose size (as the file gives it) differs from the task's is not imported: its boxes
would be in another frame (an image shown without its EXIF rotation, or another image).

Tasks are found through a `TaskLookup`, asked once per slice of images with every key, then
every file name still needed: the import job can answer it from storage slice by slice, or
build a `TaskIndex` in memory. Each slice gives its own report; reports add up.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from prelabel.domain.entities import Box, Task
from prelabel.reviewed.labels import LabelMatcher
from prelabel.reviewed.model import ReviewedImage
from prelabel.reviewed.refs import file_name_of
from prelabel.reviewed.report import Finding, ReportBuilder, ReviewReport

# (bucket, key) of one object, or (None, key) for that key in any bucket.
KeyQuery = tuple[str | None, str]
# A lookup need not say more than this many tasks per key or name: two already make it
# ambiguous.
HITS_NEEDED = 2


@dataclass(frozen=True, slots=True)
class TaskHit:
    """A task a lookup found, with its image size where known (pre-labeled tasks)."""

    task_id: str
    width: int | None = None
    height: int | None = None


class TaskLookup(Protocol):
    """The project's tasks by image key and by file name (at least `HITS_NEEDED` per query
    where there are that many; missing queries mean none)."""

    def tasks_by_key(self, keys: Collection[KeyQuery]) -> Mapping[KeyQuery, Sequence[TaskHit]]: ...

    def tasks_by_file_name(self, names: Collection[str]) -> Mapping[str, Sequence[TaskHit]]: ...


class TaskIndex:
    """A `TaskLookup` over tasks held in memory (tests, small projects, one slice of tasks)."""

    def __init__(self) -> None:
        self._keys: dict[KeyQuery, list[TaskHit]] = {}
        self._names: dict[str, list[TaskHit]] = {}

    @classmethod
    def of(cls, tasks: Iterable[Task]) -> TaskIndex:
        index = cls()
        for t in tasks:
            index.add(TaskHit(t.task_id, t.image_width, t.image_height), t.bucket, t.image_key)
        return index

    def add(self, hit: TaskHit, bucket: str, key: str) -> None:
        for query in ((bucket, key), (None, key)):
            _hold(self._keys.setdefault(query, []), hit)
        name = file_name_of(key)
        if name:
            _hold(self._names.setdefault(name, []), hit)

    def tasks_by_key(self, keys: Collection[KeyQuery]) -> Mapping[KeyQuery, Sequence[TaskHit]]:
        return {k: self._keys[k] for k in keys if k in self._keys}

    def tasks_by_file_name(self, names: Collection[str]) -> Mapping[str, Sequence[TaskHit]]:
        return {n: self._names[n] for n in names if n in self._names}


def _hold(hits: list[TaskHit], hit: TaskHit) -> None:
    if len(hits) < HITS_NEEDED:
        hits.append(hit)


class MatchRule(StrEnum):
    KEY = "key"  # bucket and key
    PATH = "path"  # key in any bucket
    FILE_NAME = "file_name"


@dataclass(frozen=True, slots=True)
class ReviewedLabel:
    """A box people kept or drew, in pixels of the image as displayed, under a bbox entry: what
    is stored as the task's reviewed label (the quality report reads it as a reviewed box of
    class `entry_id`)."""

    entry_id: str
    entry_name: str
    box: Box
    crowd: bool = False
    difficult: bool = False


@dataclass(frozen=True, slots=True)
class MatchedImage:
    """A task's reviewed labels (none: people found no object). `dropped` counts the boxes of
    this image that were not imported (unreadable, unknown label, ...): the task's reviewed
    labels are then not all that people drew."""

    task_id: str
    rule: MatchRule
    image: ReviewedImage
    labels: tuple[ReviewedLabel, ...]
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class SliceMatch:
    images: tuple[MatchedImage, ...]
    report: ReviewReport


def match_images(
    images: Sequence[ReviewedImage],
    lookup: TaskLookup,
    labels: LabelMatcher,
    *,
    already_matched: Set[str] = frozenset(),
) -> SliceMatch:
    """The tasks of one slice of a file's images, with their labels; `already_matched` holds
    the task ids earlier slices matched, so an image of the same task again is a duplicate."""
    report = ReportBuilder()
    found = _find_tasks(images, lookup)
    seen = set(already_matched)
    matched: list[MatchedImage] = []
    for image, outcome in zip(images, found, strict=True):
        if isinstance(outcome, Finding):
            _not_imported(report, image, outcome, image.ref.written)
            continue
        hit, rule = outcome
        problem = _size_problem(image, hit)
        if problem is not None:
            _not_imported(report, image, Finding.SIZE_MISMATCH, problem)
        elif hit.task_id in seen:
            _not_imported(report, image, Finding.DUPLICATE_IMAGE, image.ref.written)
        else:
            seen.add(hit.task_id)
            matched.append(_labelled(image, hit.task_id, rule, labels, report))
    return SliceMatch(tuple(matched), report.build())


Outcome = tuple[TaskHit, MatchRule] | Finding


def _find_tasks(images: Sequence[ReviewedImage], lookup: TaskLookup) -> list[Outcome]:
    queries: set[KeyQuery] = set()
    for image in images:
        if image.ref.key:
            queries.add((None, image.ref.key))
            if image.ref.bucket:
                queries.add((image.ref.bucket, image.ref.key))
    by_key = lookup.tasks_by_key(queries) if queries else {}
    outcomes: list[Outcome | None] = []
    for image in images:
        ref, outcome = image.ref, None
        steps: list[tuple[KeyQuery, MatchRule]] = []
        if ref.key and ref.bucket:
            steps.append(((ref.bucket, ref.key), MatchRule.KEY))
        if ref.key:
            steps.append(((None, ref.key), MatchRule.PATH))
        for query, rule in steps:
            outcome = _decide(by_key.get(query, ()), rule)
            if outcome is not None:
                break
        outcomes.append(outcome)
    names = {
        i.ref.file_name
        for i, o in zip(images, outcomes, strict=True)
        if o is None and i.ref.file_name
    }
    by_name = lookup.tasks_by_file_name(names) if names else {}
    return [
        o
        if o is not None
        else _decide(by_name.get(i.ref.file_name or "", ()), MatchRule.FILE_NAME)
        or Finding.UNMATCHED_IMAGE
        for i, o in zip(images, outcomes, strict=True)
    ]


def _decide(hits: Sequence[TaskHit], rule: MatchRule) -> Outcome | None:
    if len(hits) > 1:
        return Finding.AMBIGUOUS_IMAGE
    return (hits[0], rule) if hits else None


def _size_problem(image: ReviewedImage, hit: TaskHit) -> str | None:
    if image.size is None or not (hit.width and hit.height):
        return None
    if image.size == (hit.width, hit.height):
        return None
    w, h = image.size
    turned = " (shown without its EXIF rotation?)" if (h, w) == (hit.width, hit.height) else ""
    return (
        f"{image.ref.written}: {w}x{h} in the file, {hit.width}x{hit.height} for the task{turned}"
    )


def _not_imported(
    report: ReportBuilder, image: ReviewedImage, finding: Finding, example: str
) -> None:
    report.add(finding, example)
    if image.boxes:
        report.add(Finding.IMAGE_NOT_IMPORTED, image.ref.written, len(image.boxes))


def _labelled(
    image: ReviewedImage, task_id: str, rule: MatchRule, labels: LabelMatcher, report: ReportBuilder
) -> MatchedImage:
    kept: list[ReviewedLabel] = []
    for box in image.boxes:
        found = labels.match(box.label, box.entry_hint)
        if found.entry is None:
            report.add(found.finding or Finding.UNKNOWN_LABEL, f"{box.place} ({box.label[:80]})")
            report.unknown_label(box.label, image.ref.written)
            continue
        kept.append(
            ReviewedLabel(found.entry.id, found.entry.name, box.box, box.crowd, box.difficult)
        )
    report.images_matched += 1
    report.boxes_kept += len(kept)
    dropped = image.dropped + len(image.boxes) - len(kept)
    return MatchedImage(task_id, rule, image, tuple(kept), dropped)
