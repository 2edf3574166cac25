"""Quality of pre-labels against reviewed labels: matching, tallies, report, calibration.

Pure and typed; imports only `prelabel.domain`. A job reads tasks that have both a pre-label
and reviewed labels, adds each to a `QualityAccumulator` (`add_task`), stores `to_dict()`
between slices and `merge`s slices; `scope_report` and `calibrate_scope` turn a scope's tally
into figures. See docs/quality.md for the rules and their checks against pycocotools.
"""

from typing import TYPE_CHECKING

from prelabel.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from prelabel.quality.average_precision import (
        RECALL_POINTS,
        binned_ap50_bounds,
        exact_ap50,
        interpolated_ap,
    )
    from prelabel.quality.bins import SCORE_BINS, score_bin
    from prelabel.quality.bounds import (
        DEFAULT_TARGET_PRECISION,
        Z95,
        Proportion,
        boxes_needed,
        wilson_interval,
        wilson_lower,
    )
    from prelabel.quality.calibration import (
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

# Each name is imported from its module on first use: a function that needs one module of the
# package (the API's pre-label ports need only the review priority) skips the rest at its cold
# start.
_WHERE = {
    "RECALL_POINTS": "prelabel.quality.average_precision",
    "binned_ap50_bounds": "prelabel.quality.average_precision",
    "exact_ap50": "prelabel.quality.average_precision",
    "interpolated_ap": "prelabel.quality.average_precision",
    "SCORE_BINS": "prelabel.quality.bins",
    "score_bin": "prelabel.quality.bins",
    "Z95": "prelabel.quality.bounds",
    "Proportion": "prelabel.quality.bounds",
    "boxes_needed": "prelabel.quality.bounds",
    "wilson_interval": "prelabel.quality.bounds",
    "wilson_lower": "prelabel.quality.bounds",
    "DEFAULT_TARGET_PRECISION": "prelabel.quality.bounds",
    "Calibration": "prelabel.quality.calibration",
    "calibrate": "prelabel.quality.calibration",
    "calibrate_scope": "prelabel.quality.calibration",
    "check_target": "prelabel.quality.calibration",
    "PredictedBox": "prelabel.quality.evidence",
    "ReviewedBox": "prelabel.quality.evidence",
    "TaskEvidence": "prelabel.quality.evidence",
    "iou": "prelabel.quality.evidence",
    "IOU_THRESHOLD": "prelabel.quality.matching",
    "MAX_PER_CLASS": "prelabel.quality.matching",
    "BoxVerdict": "prelabel.quality.matching",
    "ImageMatch": "prelabel.quality.matching",
    "Verdict": "prelabel.quality.matching",
    "match_image": "prelabel.quality.matching",
    "AP50": "prelabel.quality.report",
    "ClassQuality": "prelabel.quality.report",
    "CurvePoint": "prelabel.quality.report",
    "F1Score": "prelabel.quality.report",
    "ScopeReport": "prelabel.quality.report",
    "class_quality": "prelabel.quality.report",
    "precision_recall_curve": "prelabel.quality.report",
    "scope_report": "prelabel.quality.report",
    "ALL": "prelabel.quality.tally",
    "ClassTally": "prelabel.quality.tally",
    "QualityAccumulator": "prelabel.quality.tally",
    "Scope": "prelabel.quality.tally",
    "ScopeKind": "prelabel.quality.tally",
    "ScopeTally": "prelabel.quality.tally",
    "TallyFormatError": "prelabel.quality.tally",
}


__getattr__ = lazy_exports(__name__, _WHERE)


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
