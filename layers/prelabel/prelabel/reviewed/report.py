"""What reading and matching a reviewed-labels file found: counts with a few examples each.

A report is made per file read and per slice matched, and reports add up (`merge`), so a job
that matches a large file slice by slice ends with the same report as one pass would give,
examples included as far as the caps allow. Every box the file holds ends up counted once:
`boxes_found = boxes_kept + boxes dropped` (each drop under one reason), and every image once:
`images_found = images_matched + images not imported` (each under one reason).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Examples kept per finding and per unknown label, their length, and how many distinct unknown
# label names are itemized (the rest are still counted under UNKNOWN_LABEL).
EXAMPLES = 10
EXAMPLE_CHARS = 200
LABEL_NAMES = 100


class Unit(StrEnum):
    IMAGE = "image"
    BOX = "box"
    ANNOTATION = "annotation"


class Finding(StrEnum):
    # Images not imported.
    UNMATCHED_IMAGE = "unmatched_image"
    AMBIGUOUS_IMAGE = "ambiguous_image"
    SIZE_MISMATCH = "size_mismatch"
    DUPLICATE_IMAGE = "duplicate_image"
    UNREVIEWED_IMAGE = "unreviewed_image"
    MALFORMED_IMAGE = "malformed_image"
    TASK_REMOVED = "task_removed"
    # Boxes dropped.
    MALFORMED_BOX = "malformed_box"
    EMPTY_BOX = "empty_box"
    OUTSIDE_IMAGE = "outside_image"
    IMAGE_ROTATED = "image_rotated"
    TOO_MANY_BOXES = "too_many_boxes"
    UNKNOWN_LABEL = "unknown_label"
    AMBIGUOUS_LABEL = "ambiguous_label"
    NOT_A_BOX_ENTRY = "not_a_box_entry"
    IMAGE_NOT_IMPORTED = "image_not_imported"
    # Boxes kept after a change.
    CLIPPED = "clipped"
    ROTATED = "rotated"
    # Annotations that are not boxes (polygons, masks, other Label Studio result types).
    NOT_A_BOX = "not_a_box"

    @property
    def unit(self) -> Unit:
        return _UNITS[self]

    @property
    def dropped(self) -> bool:
        """A box or image under this finding is not imported."""
        return self not in (Finding.CLIPPED, Finding.ROTATED, Finding.NOT_A_BOX)

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_IMAGE_FINDINGS = (
    Finding.UNMATCHED_IMAGE,
    Finding.AMBIGUOUS_IMAGE,
    Finding.SIZE_MISMATCH,
    Finding.DUPLICATE_IMAGE,
    Finding.UNREVIEWED_IMAGE,
    Finding.MALFORMED_IMAGE,
    Finding.TASK_REMOVED,
)
_UNITS = {
    f: Unit.IMAGE
    if f in _IMAGE_FINDINGS
    else Unit.ANNOTATION
    if f is Finding.NOT_A_BOX
    else Unit.BOX
    for f in Finding
}
_DESCRIPTIONS = {
    Finding.UNMATCHED_IMAGE: "no task of the project has this image key or file name",
    Finding.AMBIGUOUS_IMAGE: "the file name (or key, in any bucket) names several tasks",
    Finding.SIZE_MISMATCH: "the file gives another image size than the task's",
    Finding.DUPLICATE_IMAGE: "another image of the file was already matched to that task",
    Finding.UNREVIEWED_IMAGE: "no person's annotation (none, or only cancelled ones)",
    Finding.MALFORMED_IMAGE: "the image's entry cannot be read",
    Finding.TASK_REMOVED: "its task was removed (dataset disconnected) while the import ran",
    Finding.MALFORMED_BOX: "the box's entry cannot be read (missing, wrong type, out of range)",
    Finding.EMPTY_BOX: "zero or negative width or height",
    Finding.OUTSIDE_IMAGE: "entirely outside the image",
    Finding.IMAGE_ROTATED: "drawn on an image rotated in the editor",
    Finding.TOO_MANY_BOXES: "past the limit of boxes per image",
    Finding.UNKNOWN_LABEL: "the label names no bbox entry of the project",
    Finding.AMBIGUOUS_LABEL: "the label names several bbox entries of the project",
    Finding.NOT_A_BOX_ENTRY: "the label names a project entry that is not a bbox entry",
    Finding.IMAGE_NOT_IMPORTED: "on an image that is not imported (see the image findings)",
    Finding.CLIPPED: "kept, clipped to the image",
    Finding.ROTATED: "kept as the axis-aligned box around a rotated rectangle",
    Finding.NOT_A_BOX: "skipped: not a box (polygon, mask, keypoints, other result types)",
}


@dataclass(frozen=True, slots=True)
class Tally:
    count: int = 0
    examples: tuple[str, ...] = ()

    def plus(self, count: int, examples: Iterable[str], cap: int = EXAMPLES) -> Tally:
        kept = list(self.examples)
        for example in examples:
            if len(kept) >= cap:
                break
            kept.append(example[:EXAMPLE_CHARS])
        return Tally(self.count + count, tuple(kept))


@dataclass(frozen=True, slots=True)
class ReviewReport:
    """`images_found`: images the file holds; `images_matched`: those imported;
    `boxes_found`: box annotations the file holds; `boxes_kept`: those imported.
    `findings`: per finding, how many images, boxes or annotations (its unit) and examples
    (image references, or `place: problem`); `unknown_labels`: per label name not matched to
    a bbox entry, its boxes and example images."""

    images_found: int = 0
    images_matched: int = 0
    boxes_found: int = 0
    boxes_kept: int = 0
    findings: Mapping[Finding, Tally] = field(default_factory=dict)
    unknown_labels: Mapping[str, Tally] = field(default_factory=dict)

    def count(self, finding: Finding) -> int:
        return self.findings.get(finding, Tally()).count

    @property
    def boxes_dropped(self) -> int:
        return sum(t.count for f, t in self.findings.items() if f.unit is Unit.BOX and f.dropped)

    @property
    def images_not_imported(self) -> int:
        return sum(t.count for f, t in self.findings.items() if f.unit is Unit.IMAGE)

    def merge(self, other: ReviewReport) -> ReviewReport:
        builder = ReportBuilder()
        builder.merge(self)
        builder.merge(other)
        return builder.build()

    def as_dict(self) -> dict[str, Any]:
        return {
            "images_found": self.images_found,
            "images_matched": self.images_matched,
            "boxes_found": self.boxes_found,
            "boxes_kept": self.boxes_kept,
            "findings": {
                f.value: {"count": t.count, "examples": list(t.examples)}
                for f, t in self.findings.items()
            },
            "unknown_labels": {
                n: {"count": t.count, "examples": list(t.examples)}
                for n, t in self.unknown_labels.items()
            },
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> ReviewReport:
        """The report `as_dict` wrote (a stored report); findings this code does not know are
        left out."""

        def tally(d: Mapping[str, Any]) -> Tally:
            return Tally(int(d["count"]), tuple(str(e) for e in d.get("examples", ())))

        known = {f.value for f in Finding}
        return cls(
            images_found=int(doc.get("images_found", 0)),
            images_matched=int(doc.get("images_matched", 0)),
            boxes_found=int(doc.get("boxes_found", 0)),
            boxes_kept=int(doc.get("boxes_kept", 0)),
            findings={
                Finding(k): tally(v) for k, v in doc.get("findings", {}).items() if k in known
            },
            unknown_labels={str(k): tally(v) for k, v in doc.get("unknown_labels", {}).items()},
        )


class ReportBuilder:
    """Counts as a reader or matcher goes; examples stay within their caps."""

    def __init__(self) -> None:
        self.images_found = 0
        self.images_matched = 0
        self.boxes_found = 0
        self.boxes_kept = 0
        self._findings: dict[Finding, Tally] = {}
        self._labels: dict[str, Tally] = {}

    def add(self, finding: Finding, example: str | None = None, count: int = 1) -> None:
        current = self._findings.get(finding, Tally())
        self._findings[finding] = current.plus(count, () if example is None else (example,))

    def unknown_label(self, name: str, example: str, count: int = 1) -> None:
        self._unknown(name[:EXAMPLE_CHARS], count, (example,))

    def _unknown(self, name: str, count: int, examples: Iterable[str]) -> None:
        if name in self._labels or len(self._labels) < LABEL_NAMES:
            self._labels[name] = self._labels.get(name, Tally()).plus(count, examples)

    def merge(self, report: ReviewReport) -> None:
        self.images_found += report.images_found
        self.images_matched += report.images_matched
        self.boxes_found += report.boxes_found
        self.boxes_kept += report.boxes_kept
        for finding, tally in report.findings.items():
            current = self._findings.get(finding, Tally())
            self._findings[finding] = current.plus(tally.count, tally.examples)
        for name, tally in report.unknown_labels.items():
            self._unknown(name, tally.count, tally.examples)

    def build(self) -> ReviewReport:
        return ReviewReport(
            images_found=self.images_found,
            images_matched=self.images_matched,
            boxes_found=self.boxes_found,
            boxes_kept=self.boxes_kept,
            findings={f: self._findings[f] for f in Finding if f in self._findings},
            unknown_labels=dict(sorted(self._labels.items(), key=lambda kv: -kv[1].count)),
        )


def merge_reports(reports: Iterable[ReviewReport]) -> ReviewReport:
    builder = ReportBuilder()
    for report in reports:
        builder.merge(report)
    return builder.build()
