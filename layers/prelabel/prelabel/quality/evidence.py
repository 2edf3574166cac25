"""What the quality computations read about one task: its pre-label's boxes and the boxes
people kept after review, each tied to a class of the project (a label entry)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from prelabel.domain.entities import Box
from prelabel.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class PredictedBox:
    """A pre-label's box: its class (label entry id), detector score and pixel box."""

    class_key: str
    score: float
    box: Box

    def __post_init__(self) -> None:
        if not (math.isfinite(self.score) and 0.0 <= self.score <= 1.0):
            raise InvalidInput(f"score: {self.score} is outside [0, 1]", field="score")


@dataclass(frozen=True, slots=True)
class ReviewedBox:
    """A box people kept, corrected or drew, with the class (label entry id) they gave it."""

    class_key: str
    box: Box


@dataclass(frozen=True, slots=True)
class TaskEvidence:
    """One task that has both a pre-label and reviewed labels (either may hold no box).

    The model and run are the pre-label's own: one batch wrote all of a task's boxes, so they
    are the same for every box of the task.
    """

    predicted: Sequence[PredictedBox]
    reviewed: Sequence[ReviewedBox]
    model_version: str
    run_id: str = ""


def iou(a: Box, b: Box) -> float:
    """Intersection over union in continuous pixel coordinates, as pycocotools computes it
    (no +1 pixel); a box without area overlaps nothing."""
    w = min(a.x2, b.x2) - max(a.x1, b.x1)
    if w <= 0:
        return 0.0
    h = min(a.y2, b.y2) - max(a.y1, b.y1)
    if h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter)
