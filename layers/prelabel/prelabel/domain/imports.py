"""Importing a dataset: which objects become tasks, which are skipped and why, and task ids that
a repeated slice derives again. Pure rules, no storage.

A task id is a hash of (dataset, generation, bucket, key): a slice that runs twice (a retry
after a crash) writes the same ids, and the conditional put skips those that exist, so a crash
never doubles a task. A reconnect raises the dataset's generation, so its tasks are new ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from prelabel.domain.locations import OrgLocations, is_readable

# The types the worker decodes (Pillow): GIF by its first frame.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
# The worker refuses larger files (prelabel.imaging.preprocess.MAX_BYTES); skipped up front.
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_IMAGES_PER_DATASET = 1_000_000
# Example keys kept per skip reason in a dataset's report, and the bytes they may take in all
# (a report lives on the dataset item, which DynamoDB caps at 400 KB).
EXAMPLES_PER_REASON = 100
EXAMPLE_BYTES = 64 * 1024


class SkipReason(StrEnum):
    UNSUPPORTED_TYPE = "unsupported_type"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    OUTSIDE_LOCATIONS = "outside_locations"
    NOT_AN_OBJECT = "not_an_object"
    OVER_LIMIT = "over_limit"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    SkipReason.UNSUPPORTED_TYPE: "not an image type Prelabel reads ("
    + ", ".join(IMAGE_SUFFIXES)
    + ")",
    SkipReason.EMPTY: "empty object (0 bytes)",
    SkipReason.TOO_LARGE: f"larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB",
    SkipReason.OUTSIDE_LOCATIONS: "outside the organization's data locations",
    SkipReason.NOT_AN_OBJECT: "a manifest line that names no S3 object",
    SkipReason.OVER_LIMIT: f"past the limit of {MAX_IMAGES_PER_DATASET:,} images per dataset",
}


class ManifestFormat(StrEnum):
    GROUND_TRUTH = "ground_truth"  # SageMaker Ground Truth input manifest (JSON Lines)
    S3_INVENTORY = "s3_inventory"  # S3 Inventory CSV: bucket, key[, size, ...]


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """An object an import considers; `size` is None where the source does not say."""

    bucket: str
    key: str
    size: int | None = None


def skip_reason(locations: OrgLocations, obj: ObjectRef) -> SkipReason | None:
    """Why `obj` does not become a task; None when it does. Locations are checked on every
    key, also under a permitted prefix: S3 lists keys such as `org-a/../org-b/x.jpg` there."""
    if not is_readable(locations, obj.bucket, obj.key):
        return SkipReason.OUTSIDE_LOCATIONS
    if not obj.key.lower().endswith(IMAGE_SUFFIXES):
        return SkipReason.UNSUPPORTED_TYPE
    if obj.size is not None and obj.size <= 0:
        return SkipReason.EMPTY
    if obj.size is not None and obj.size > MAX_IMAGE_BYTES:
        return SkipReason.TOO_LARGE
    return None


def is_folder_marker(key: str, size: int | None) -> bool:
    """The empty `folder/` objects consoles create: not files, not reported."""
    return key.endswith("/") and not size


def task_id_for(dataset_id: str, generation: int, bucket: str, key: str) -> str:
    digest = hashlib.blake2b(
        f"{dataset_id}\n{generation}\n{bucket}\n{key}".encode("utf-8", "surrogatepass"),
        digest_size=12,
    ).hexdigest()
    return f"t_{digest}"


@dataclass(frozen=True, slots=True)
class SkipTally:
    count: int = 0
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import looked at: `objects` considered, `images` accepted (a key listed twice
    in a manifest is one task), and per skip reason how many with up to 100 example keys."""

    objects: int = 0
    images: int = 0
    skipped: Mapping[SkipReason, SkipTally] = field(default_factory=dict)

    @property
    def skipped_total(self) -> int:
        return sum(t.count for t in self.skipped.values())


class ReportBuilder:
    """Counts one slice (or a whole import) while keeping examples within their caps."""

    def __init__(self, examples_wanted: Mapping[SkipReason, int] | None = None) -> None:
        self.objects = 0
        self.images = 0
        self._counts: dict[SkipReason, int] = {}
        self._examples: dict[SkipReason, list[str]] = {}
        self._wanted = dict(examples_wanted or {})
        self._bytes = 0

    def accepted(self) -> None:
        self.objects += 1
        self.images += 1

    def skipped(self, reason: SkipReason, key: str) -> None:
        self.objects += 1
        self.add(reason, 1, (key,))

    def add(self, reason: SkipReason, count: int, examples: Iterable[str]) -> None:
        self._counts[reason] = self._counts.get(reason, 0) + count
        kept = self._examples.setdefault(reason, [])
        for key in examples:
            if len(kept) >= self._wanted.get(reason, EXAMPLES_PER_REASON):
                break
            size = len(key.encode("utf-8", "surrogatepass"))
            if self._bytes + size > EXAMPLE_BYTES:
                break
            kept.append(key)
            self._bytes += size

    def merge(self, report: ImportReport) -> None:
        self.objects += report.objects
        self.images += report.images
        for reason, tally in report.skipped.items():
            self.add(reason, tally.count, tally.examples)

    def build(self) -> ImportReport:
        return ImportReport(
            self.objects,
            self.images,
            {
                r: SkipTally(n, tuple(self._examples.get(r, ())))
                for r, n in sorted(self._counts.items())
            },
        )


def examples_still_wanted(kept: Mapping[str, int]) -> dict[SkipReason, int]:
    """How many more examples each reason may keep, given how many earlier slices kept."""
    return {r: max(0, EXAMPLES_PER_REASON - int(kept.get(r.value, 0))) for r in SkipReason}
