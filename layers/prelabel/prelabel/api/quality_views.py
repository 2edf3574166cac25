"""The quality report and reviewed-label uploads -> response bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prelabel.api.quality_schemas import (
    AP50Out,
    CalibrationOut,
    ClassQualityOut,
    CurrentThresholdOut,
    CurvePointOut,
    F1Out,
    ProportionOut,
    QualityOut,
    QualitySummaryOut,
    SuggestedMappingOut,
    SuggestedRowOut,
    UploadOut,
)
from prelabel.api.views import job_out

if TYPE_CHECKING:
    from prelabel.ports.reviewed_files import SignedUpload
    from prelabel.quality import AP50, Calibration, CurvePoint, Proportion
    from prelabel.services.quality_view import ClassView, QualityView


def upload_out(u: SignedUpload) -> UploadOut:
    return UploadOut(
        url=u.url,
        fields=u.fields,
        bucket=u.bucket,
        key=u.key,
        max_bytes=u.max_bytes,
        expires_in=u.expires_in,
    )


def proportion_out(p: Proportion) -> ProportionOut:
    return ProportionOut(hits=p.hits, n=p.n, value=p.value, lower=p.lower)


def ap50_out(a: AP50) -> AP50Out:
    return AP50Out(
        value=a.value,
        low=a.low,
        high=a.high,
        error_bound=a.error_bound,
        reviewed=a.reviewed,
        detections=a.detections,
    )


def curve_point_out(c: CurvePoint) -> CurvePointOut:
    return CurvePointOut(
        threshold=c.threshold,
        precision=c.precision.value,
        precision_lower=c.precision.lower,
        boxes=c.precision.n,
        recall=c.recall.value,
        recall_lower=c.recall.lower,
    )


def calibration_message(c: Calibration) -> str:
    if c.reachable and c.recall is not None and c.precision is not None:
        return (
            f"{c.threshold:.2f} proves precision >= {c.target:g} ({c.precision.hits} of "
            f"{c.precision.n} boxes right) and keeps recall {c.recall.value or 0:.2f} "
            f"({c.recall.hits} of {c.recall.n} reviewed boxes)"
        )
    if c.precision is None or c.precision.value is None:
        return "not reachable: no pre-labeled box of this class has been reviewed yet"
    seen = (
        f"not reachable: best precision {c.precision.value:.2f} (lower bound "
        f"{c.precision.lower or 0:.2f}) at {c.threshold:.2f} on {c.precision.n} "
        f"box{'' if c.precision.n == 1 else 'es'}"
    )
    if c.more_boxes is None:
        return f"{seen}; at that precision no number of reviews proves {c.target:g}"
    return (
        f"{seen}; about {c.more_boxes} more reviewed box{'' if c.more_boxes == 1 else 'es'} "
        "at or above it would prove "
        f"{c.target:g} if their precision holds"
    )


def calibration_out(c: Calibration, floor: float | None) -> CalibrationOut:
    return CalibrationOut(
        target=c.target,
        reachable=c.reachable,
        threshold=c.threshold,
        precision=proportion_out(c.precision) if c.precision else None,
        recall=proportion_out(c.recall) if c.recall else None,
        boxes_needed=c.boxes_needed,
        more_boxes=c.more_boxes,
        evidence_floor=floor,
        message=calibration_message(c),
    )


def class_out(v: ClassView) -> ClassQualityOut:
    q = v.quality
    return ClassQualityOut(
        entry_id=v.entry_id,
        entry_name=v.entry_name,
        mapped=bool(v.current),
        reviewed=q.reviewed,
        predicted=q.predicted,
        true_positives=q.true_positives,
        misses=q.misses,
        extra=q.extra,
        wrong_class=q.wrong_class,
        confused_with=dict(q.confused_with),
        beyond_cap=q.beyond_cap,
        min_score=q.min_score,
        precision=proportion_out(q.precision),
        recall=proportion_out(q.recall),
        f1=F1Out(value=q.f1.value, n=q.f1.n, lower=q.f1.lower),
        ap50=ap50_out(q.ap50),
        curve=[curve_point_out(c) for c in q.curve],
        current_thresholds=[
            CurrentThresholdOut(
                detector_class=t.detector_class,
                min_confidence=t.min_confidence,
                effective_threshold=t.effective,
            )
            for t in v.current
        ],
        calibration=calibration_out(v.calibration, v.evidence_floor) if v.calibration else None,
    )


def summary_out(v: QualityView) -> QualitySummaryOut:
    s = v.summary
    return QualitySummaryOut(
        computed=s is not None,
        job_id=s.job_id if s else None,
        computed_at=s.computed_at if s else None,
        by_run=s.by_run if s else False,
        tasks=s.tasks if s else 0,
        reviewed_only=s.reviewed_only if s else 0,
        prelabeled_only=s.prelabeled_only if s else 0,
        scopes=list(s.scopes) if s else [],
        stale=bool(v.stale),
        stale_reasons=list(v.stale),
        reviewed_tasks_now=v.reviewed_now.tasks,
        prelabeled_now=v.prelabeled_now,
    )


def quality_out(v: QualityView) -> QualityOut:
    project = v.project
    rows = [
        SuggestedRowOut(
            detector_class=r.detector_class, entry_id=r.entry_id, min_confidence=r.min_confidence
        )
        for r in v.suggested_rows
    ]
    return QualityOut(
        project_id=project.ref.project_id,
        scope=v.scope,
        target_precision=v.target,
        message=v.message,
        summary=summary_out(v),
        scope_tasks=v.scope_tasks,
        classes=[class_out(c) for c in v.classes],
        map50=ap50_out(v.map50) if v.map50 else None,
        precision=proportion_out(v.precision) if v.precision else None,
        recall=proportion_out(v.recall) if v.recall else None,
        suggested_mapping=SuggestedMappingOut(
            rows=rows, default_threshold=project.default_threshold
        ),
        changed_rows=v.changed_rows,
        job=job_out(v.job) if v.job else None,
    )
