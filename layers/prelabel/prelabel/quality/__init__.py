"""Quality of pre-labels against reviewed labels: matching, tallies, report, calibration.

Pure and typed; imports only `prelabel.domain`. A job reads tasks that have both a pre-label
and reviewed labels, adds each to a `QualityAccumulator` (`add_task`), stores `to_dict()`
between slices and `merge`s slices; `scope_report` and `calibrate_scope` turn a scope's tally
into figures. See docs/quality.md for the rules and their checks against pycocotools.
"""

from prelabel.quality.average_precision import (
    RECALL_POINTS,
    binned_ap50_bounds,
    exact_ap50,
    interpolated_ap,
)
from prelabel.quality.bins import SCORE_BINS, score_bin
from prelabel.quality.bounds import Z95, Proportion, boxes_needed, wilson_interval, wilson_lower
from prelabel.quality.calibration import (
    DEFAULT_TARGET_PRECISION,
    Calibration,
    calibrate,
    calibrate_scope,
    check_target,
)
from prelabel.quality.evidence import PredictedBox, ReviewedBox, TaskEvidence, iou
from prelabel.quality.matching import (
    IOU_THRESHOLD,
    MAX_PER_CLASS,
    BoxVerdict,
    ImageMatch,
    Verdict,
    match_image,
)
from prelabel.quality.report import (
    AP50,
    ClassQuality,
    CurvePoint,
    F1Score,
    ScopeReport,
    class_quality,
    precision_recall_curve,
    scope_report,
)
from prelabel.quality.tally import (
    ALL,
    ClassTally,
    QualityAccumulator,
    Scope,
    ScopeKind,
    ScopeTally,
    TallyFormatError,
)

__all__ = [
    "ALL",
    "AP50",
    "DEFAULT_TARGET_PRECISION",
    "IOU_THRESHOLD",
    "MAX_PER_CLASS",
    "RECALL_POINTS",
    "SCORE_BINS",
    "Z95",
    "BoxVerdict",
    "Calibration",
    "ClassQuality",
    "ClassTally",
    "CurvePoint",
    "F1Score",
    "ImageMatch",
    "PredictedBox",
    "Proportion",
    "QualityAccumulator",
    "ReviewedBox",
    "Scope",
    "ScopeKind",
    "ScopeReport",
    "ScopeTally",
    "TallyFormatError",
    "TaskEvidence",
    "Verdict",
    "binned_ap50_bounds",
    "boxes_needed",
    "calibrate",
    "calibrate_scope",
    "check_target",
    "class_quality",
    "exact_ap50",
    "interpolated_ap",
    "iou",
    "match_image",
    "precision_recall_curve",
    "scope_report",
    "score_bin",
    "wilson_interval",
    "wilson_lower",
]
