"""Reviewed labels: what people kept, corrected or drew in a review tool, read back from the
tool's export (COCO JSON, Label Studio JSON, CVAT's COCO 1.0 zip, Pascal VOC zip) and matched
to the project's tasks and bbox entries. Pure: bytes and lookups in, records and reports out.
"""

from typing import TYPE_CHECKING

from prelabel.lazy_exports import lazy_exports

if TYPE_CHECKING:
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

# Each name is imported from its module on first use: a function that needs one module of the
# package (the API's pre-label ports need only the review priority) skips the rest at its cold
# start.
_WHERE = {
    "LabelMatch": "prelabel.reviewed.labels",
    "LabelMatcher": "prelabel.reviewed.labels",
    "KeyQuery": "prelabel.reviewed.matching",
    "MatchedImage": "prelabel.reviewed.matching",
    "MatchRule": "prelabel.reviewed.matching",
    "ReviewedLabel": "prelabel.reviewed.matching",
    "SliceMatch": "prelabel.reviewed.matching",
    "TaskHit": "prelabel.reviewed.matching",
    "TaskIndex": "prelabel.reviewed.matching",
    "TaskLookup": "prelabel.reviewed.matching",
    "match_images": "prelabel.reviewed.matching",
    "DEFAULT_LIMITS": "prelabel.reviewed.model",
    "ImageRef": "prelabel.reviewed.model",
    "ReadBox": "prelabel.reviewed.model",
    "ReadLimits": "prelabel.reviewed.model",
    "ReviewedFile": "prelabel.reviewed.model",
    "ReviewedFileError": "prelabel.reviewed.model",
    "ReviewedImage": "prelabel.reviewed.model",
    "ReviewFormat": "prelabel.reviewed.model",
    "read_reviewed": "prelabel.reviewed.read",
    "sniff_format": "prelabel.reviewed.read",
    "Finding": "prelabel.reviewed.report",
    "ReviewReport": "prelabel.reviewed.report",
    "Tally": "prelabel.reviewed.report",
    "Unit": "prelabel.reviewed.report",
    "merge_reports": "prelabel.reviewed.report",
}


__getattr__ = lazy_exports(__name__, _WHERE)


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
