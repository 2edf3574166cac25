"""Small constructors for the quality tests: boxes, and tasks whose verdicts are known."""

from __future__ import annotations

from collections.abc import Sequence

from prelabel.domain.entities import Box
from prelabel.quality import PredictedBox, ReviewedBox, TaskEvidence


def box(x: float, y: float, w: float = 10.0, h: float = 10.0) -> Box:
    return Box(x, y, x + w, y + h)


def pred(cls: str, score: float, b: Box) -> PredictedBox:
    return PredictedBox(cls, score, b)


def rev(cls: str, b: Box) -> ReviewedBox:
    return ReviewedBox(cls, b)


def task(
    cls: str,
    hits: Sequence[float] = (),
    false: Sequence[float] = (),
    missed: int = 0,
    *,
    model: str = "m1",
    run: str = "r1",
) -> TaskEvidence:
    """A task where each score in `hits` lands on its own reviewed box of `cls`, each score in
    `false` lands where nothing was reviewed, and `missed` reviewed boxes get no prediction."""
    predicted, reviewed = [], []
    for i, score in enumerate(hits):
        reviewed.append(rev(cls, box(20.0 * i, 0)))
        predicted.append(pred(cls, score, box(20.0 * i, 0)))
    for i, score in enumerate(false):
        predicted.append(pred(cls, score, box(20.0 * i, 500)))
    for i in range(missed):
        reviewed.append(rev(cls, box(20.0 * i, 1000)))
    return TaskEvidence(predicted, reviewed, model, run)
