"""Detections -> pre-labels, through the run's mapping snapshot. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from prelabel.domain.entities import AI_PRE_LABEL, Box, Label, RunSnapshot

if TYPE_CHECKING:
    # Only the worker calls labels_from_detections; the API reads label ids through this
    # module and should not import the detector's wire format at its cold start.
    from prelabel.detector_wire import Detection


def label_id(task_id: str, index: int) -> str:
    """Derived from the task and position: a retried batch writes the same ids, and storage
    need not keep them."""
    digest = hashlib.sha1(f"{task_id}:{index}".encode(), usedforsecurity=False)
    return f"lbl_{digest.hexdigest()[:16]}"


def _clamp(value: float, upper: int) -> float:
    return round(min(max(value, 0.0), float(upper)), 2)


def labels_from_detections(
    detections: Sequence[Detection],
    snapshot: RunSnapshot,
    *,
    scale: tuple[float, float],
    image_size: tuple[int, int],
    model: tuple[str, str],
    task_id: str,
) -> tuple[Label, ...]:
    """Keep detections of mapped classes at or above their threshold, in original pixels.

    `scale` turns the pixels of the image sent to the detector into the pixels of the oriented
    original; label ids derive from the task and position so a retried batch writes the same ids.
    """
    sx, sy = scale
    width, height = image_size
    labels: list[Label] = []
    # A model may have 1,000 classes mapped: one lookup per detection, not a scan of the rows.
    rows = {row.class_id: row for row in snapshot.mapping.rows}
    for det in detections:
        row = rows.get(det.class_id)
        if row is None or det.score < snapshot.mapping.threshold_for(
            row, snapshot.default_threshold
        ):
            continue
        x1, y1, x2, y2 = det.box
        box = Box(
            _clamp(x1 * sx, width),
            _clamp(y1 * sy, height),
            _clamp(x2 * sx, width),
            _clamp(y2 * sy, height),
        )
        if box.x2 <= box.x1 or box.y2 <= box.y1:
            continue
        labels.append(
            Label(
                label_id=label_id(task_id, len(labels)),
                entry_id=row.entry_id,
                entry_name=snapshot.entry_names.get(row.entry_id, row.entry_id),
                box=box,
                detector_class=row.class_name,
                score=round(det.score, 4),
                model_name=model[0],
                model_version=model[1],
                source=AI_PRE_LABEL,
            )
        )
    return tuple(labels)
