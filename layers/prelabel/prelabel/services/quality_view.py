"""The quality report as a reader sees it: per class the figures of `prelabel.quality`, the
calibrated threshold next to the mapping's current ones, and the mapping with the suggested
thresholds applied (what one PUT of the mapping does)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prelabel.domain.entities import Project
from prelabel.domain.jobs import Job
from prelabel.domain.label_config import bbox_entries
from prelabel.domain.mapping import MappingRowInput
from prelabel.domain.reviewed_labels import ReviewedCount
from prelabel.ports.quality_reports import QualitySummary, StoredScope
from prelabel.quality import (
    AP50,
    Calibration,
    ClassQuality,
    Proportion,
    Scope,
    calibrate,
    scope_report,
)


@dataclass(frozen=True, slots=True)
class CurrentThreshold:
    detector_class: str
    min_confidence: float | None
    effective: float


@dataclass(frozen=True, slots=True)
class ClassView:
    entry_id: str
    entry_name: str
    quality: ClassQuality
    # Mapped entries only: the detector classes mapped to it with their thresholds now, and
    # the suggestion (for every class of the entry: one threshold per entry).
    current: tuple[CurrentThreshold, ...]
    calibration: Calibration | None
    evidence_floor: float | None


@dataclass(frozen=True, slots=True)
class QualityView:
    """`summary` None: nothing computed yet. `stale` says what changed since it was.
    `suggested_rows` is the whole mapping, with the reachable suggestions applied: a client
    PUTs it as it is."""

    project: Project
    scope: str
    target: float
    summary: QualitySummary | None
    stale: tuple[str, ...]
    reviewed_now: ReviewedCount
    prelabeled_now: int
    job: Job | None  # the quality job running now, if any
    message: str = ""
    scope_tasks: int = 0
    classes: tuple[ClassView, ...] = ()
    map50: AP50 | None = None
    precision: Proportion | None = None
    recall: Proportion | None = None
    suggested_rows: tuple[MappingRowInput, ...] = ()
    changed_rows: int = 0


def current_thresholds(project: Project) -> dict[str, tuple[CurrentThreshold, ...]]:
    rows: dict[str, list[CurrentThreshold]] = {}
    for r in project.mapping.rows:
        effective = project.mapping.threshold_for(r, project.default_threshold)
        rows.setdefault(r.entry_id, []).append(
            CurrentThreshold(r.class_name, r.min_confidence, effective)
        )
    return {k: tuple(v) for k, v in rows.items()}


def class_views(
    project: Project, stored: StoredScope, target: float
) -> tuple[tuple[ClassView, ...], AP50, Proportion, Proportion]:
    """Every class with reviewed or predicted boxes and every mapped entry (zero counts when
    it has none yet), in the order of the project's bbox entries, then any other class."""
    current = current_thresholds(project)
    report = scope_report(Scope.parse(stored.scope_key), stored.tally, current)
    names = {e.id: e.name for e in project.label_config}
    order = {e.id: i for i, e in enumerate(bbox_entries(project.label_config))}
    views = []
    for q in sorted(
        report.classes, key=lambda q: (order.get(q.class_key, len(order)), q.class_key)
    ):
        mapped = q.class_key in current
        floor = stored.floors.get(q.class_key)
        tally = stored.tally.classes.get(q.class_key)
        calibration = None
        if mapped and tally is not None:
            calibration = calibrate(q.class_key, tally, target, floor)
        views.append(
            ClassView(
                q.class_key,
                names.get(q.class_key, q.class_key),
                q,
                current.get(q.class_key, ()),
                calibration,
                floor,
            )
        )
    return tuple(views), report.map50, report.precision, report.recall


def suggested_rows(
    project: Project, classes: Sequence[ClassView]
) -> tuple[tuple[MappingRowInput, ...], int]:
    """The mapping with each reachable suggestion applied to every row of its entry, and how
    many rows that changes; the other rows as they are."""
    suggested = {
        c.entry_id: c.calibration.threshold
        for c in classes
        if c.calibration is not None and c.calibration.reachable
    }
    rows, changed = [], 0
    for r in project.mapping.rows:
        new = r.min_confidence
        if r.entry_id in suggested:
            new = suggested[r.entry_id]
            changed += new != project.mapping.threshold_for(r, project.default_threshold)
        rows.append(MappingRowInput(r.class_name, r.entry_id, new))
    return tuple(rows), changed
