"""Reviewed labels: what people kept, corrected or drew in a review tool, read back from the
tool's export (COCO JSON, Label Studio JSON, CVAT's COCO 1.0 zip, Pascal VOC zip) and matched
to the project's tasks and bbox entries. Pure: bytes and lookups in, records and reports out.
"""

from prelabel.reviewed.labels import LabelMatch, LabelMatcher
from prelabel.reviewed.matching import (
    KeyQuery,
    MatchedImage,
    MatchRule,
    ReviewedLabel,
    SliceMatch,
    TaskHit,
    TaskIndex,
    TaskLookup,
    match_images,
)
from prelabel.reviewed.model import (
    DEFAULT_LIMITS,
    ImageRef,
    ReadBox,
    ReadLimits,
    ReviewedFile,
    ReviewedFileError,
    ReviewedImage,
    ReviewFormat,
)
from prelabel.reviewed.read import read_reviewed, sniff_format
from prelabel.reviewed.report import Finding, ReviewReport, Tally, Unit, merge_reports

__all__ = [
    "DEFAULT_LIMITS",
    "Finding",
    "ImageRef",
    "KeyQuery",
    "LabelMatch",
    "LabelMatcher",
    "MatchRule",
    "MatchedImage",
    "ReadBox",
    "ReadLimits",
    "ReviewFormat",
    "ReviewReport",
    "ReviewedFile",
    "ReviewedFileError",
    "ReviewedImage",
    "ReviewedLabel",
    "SliceMatch",
    "Tally",
    "TaskHit",
    "TaskIndex",
    "TaskLookup",
    "Unit",
    "match_images",
    "merge_reports",
    "read_reviewed",
    "sniff_format",
]
