"""What a review tool's export says about each image, once read: one form for every format."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from prelabel.domain.entities import Box
from prelabel.domain.errors import InvalidInput
from prelabel.domain.imports import MAX_IMAGES_PER_DATASET
from prelabel.reviewed.report import ReviewReport

MiB = 1024 * 1024


class ReviewFormat(StrEnum):
    COCO = "coco"  # one COCO JSON document (Prelabel's export, pycocotools, FiftyOne, ...)
    LABEL_STUDIO = "labelstudio"  # Label Studio's JSON export: a list of tasks
    CVAT_COCO = "cvat_coco"  # CVAT's "COCO 1.0" zip: annotations/instances_<subset>.json
    VOC = "voc"  # a Pascal VOC zip: Annotations/**/*.xml


class ReviewedFileError(InvalidInput):
    """The file as a whole cannot be read; `field` names the place (`annotations`,
    `Annotations/a.xml`, `tasks[3].annotations`) and the message what is wrong there."""

    def __init__(self, place: str, problem: str) -> None:
        super().__init__(f"{place}: {problem}", field=place)


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """What one file may hold. A file past a limit is refused as a whole, naming the limit,
    except `max_boxes_per_image`, past which an image's further boxes are dropped and counted.

    At the defaults a read of the largest file peaks near 1.5 GB: a JSON document becomes
    Python objects about 6 (COCO) or 4.5 (Label Studio) times its size, mostly `json.loads`
    itself (`benchmarks/reviewed.py`); a larger review is imported in parts."""

    max_file_bytes: int = 256 * MiB
    max_json_bytes: int = 256 * MiB
    max_xml_bytes: int = 1 * MiB
    max_unpacked_bytes: int = 1024 * MiB
    max_zip_members: int = MAX_IMAGES_PER_DATASET + 10_000
    max_images: int = MAX_IMAGES_PER_DATASET
    max_annotations: int = 5_000_000
    max_boxes_per_image: int = 1_000


DEFAULT_LIMITS = ReadLimits()


@dataclass(frozen=True, slots=True)
class ImageRef:
    """How the file names an image. `written` is the reference as the file wrote it (a key,
    URL, path or file name; cut to 1,024 characters); `bucket` and `key` are set where it names
    one S3 object (an `s3://` URI, an S3 https URL, Prelabel's own fields); `key` alone is a
    path that may be a key in any bucket; `file_name` is its last path segment."""

    written: str
    bucket: str | None = None
    key: str | None = None
    file_name: str | None = None


@dataclass(frozen=True, slots=True)
class ReadBox:
    """One box a person kept, moved or drew, as the file states it (its label not yet matched
    to an entry: see `ReviewedLabel`). `box` is in pixels of the image as displayed,
    clipped to it where its size is known. `label` is the class name as written; `entry_hint`
    an entry id the file carries beside it (Prelabel's COCO `prelabel_entry_id`). `crowd` is
    COCO's `iscrowd`, `difficult` VOC's: evaluations ignore such objects, so they are kept
    as flags rather than dropped. `place` says where in the file the box was written."""

    label: str
    box: Box
    place: str
    entry_hint: str | None = None
    crowd: bool = False
    difficult: bool = False


@dataclass(frozen=True, slots=True)
class ReviewedImage:
    """An image the file says people reviewed, with every box they left on it (none: the image
    holds no objects). `width`/`height` are the file's, when it gives them."""

    ref: ImageRef
    place: str
    width: int | None = None
    height: int | None = None
    boxes: tuple[ReadBox, ...] = ()
    # Boxes of this image that reading dropped (counted in the file's report by reason).
    dropped: int = 0

    @property
    def size(self) -> tuple[int, int] | None:
        return (self.width, self.height) if self.width and self.height else None


@dataclass(frozen=True, slots=True)
class ReviewedFile:
    """Every image the file holds that people reviewed, in file order, and what reading found
    (images without a person's annotation, boxes dropped or changed, non-box annotations)."""

    format: ReviewFormat
    images: tuple[ReviewedImage, ...]
    report: ReviewReport
