"""The review priority of a pre-labeled task: which images people should look at first.

A box's *margin* is its score minus its class's threshold in the run's mapping snapshot (every
kept box has margin >= 0). Three tiers, in this order:

1. **near**: some box lies within NEAR_MARGIN (0.02) of its threshold: two steps of the 0.01
   grid thresholds are calibrated on, so raising the threshold by 0.02 would drop it. These
   are the boxes a threshold decision hangs on: the least sure boxes that were kept, where
   precision is lowest, and where a reviewer's verdict moves the calibrated threshold most.
   The task with the smallest margin comes first; equal margins (to the thousandth) put the
   task with more low-score boxes first.
2. **many low**: no box that near, but at least MANY_LOW (3) boxes within LOW_MARGIN (0.10) of
   their thresholds: a cluttered or confusing image, where the model is unsure several times
   and mistakes gather. More such boxes first; equal counts by the smallest margin.
3. **the rest**: the model is sure of every box, or the image has no box. All equal.

The bands are narrow on purpose: each task of the first two tiers costs a write unit in the
review index, and the bands decide how many there are (on coco-mini-train with YOLOX-Nano at a
0.3 threshold: 20% near, 9% many low; docs/quality.md). A wider band would put a third or
more of a project ahead of "the rest", more than a team reviews first anyway.

The priority is encoded as a sortable key of KEY_DIGITS digits, lowest first ("priority 0" is
the most urgent, as in P0): the tier, then the two figures of its order, each fixed-width.
`value` is the same key as a number (what exports carry). Margins are read in whole
ten-thousandths (scores are stored to 4 decimals), so 0.35 - 0.30 is 0.0500, not 0.0499...

Only the first two tiers need an index entry: the rest are equal, so they are listed after
them in task-id order, and their key never needs storing (see docs/quality.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from prelabel.domain.entities import Label

NEAR_MARGIN = 0.02
LOW_MARGIN = 0.10
MANY_LOW = 3
KEY_DIGITS = 6
# Low-score boxes counted into a key: two digits.
MAX_COUNTED = 99
_TEN_THOUSANDTHS = 10_000


class ReviewTier(IntEnum):
    NEAR = 0
    MANY_LOW = 1
    REST = 2


@dataclass(frozen=True, slots=True)
class ReviewPriority:
    tier: ReviewTier
    # The smallest margin of a box, in thousandths (None: no box).
    nearest: int | None
    # Boxes within LOW_MARGIN of their threshold.
    low_boxes: int

    @property
    def key(self) -> str:
        """KEY_DIGITS digits; a lower key is reviewed sooner, and string order is number order."""
        fewer = MAX_COUNTED - min(self.low_boxes, MAX_COUNTED)
        if self.tier is ReviewTier.NEAR:
            return f"0{self.nearest:03d}{fewer:02d}"
        if self.tier is ReviewTier.MANY_LOW:
            return f"1{fewer:02d}{self.nearest:03d}"
        return REST_KEY

    @property
    def value(self) -> int:
        return int(self.key)

    @property
    def queued(self) -> bool:
        """Ordered ahead of the rest, so it needs a place in the review index."""
        return self.tier is not ReviewTier.REST


REST_KEY = f"{ReviewTier.REST.value}{'0' * (KEY_DIGITS - 1)}"
REST_VALUE = int(REST_KEY)
REST = ReviewPriority(ReviewTier.REST, None, 0)


def _thousandths(score: float, threshold: float) -> int:
    margin = round((score - threshold) * _TEN_THOUSANDTHS)
    return max(margin, 0) // 10


def review_priority(boxes: Iterable[tuple[float, float]]) -> ReviewPriority:
    """The priority of a task from its boxes' (score, threshold) pairs."""
    margins = [_thousandths(score, threshold) for score, threshold in boxes]
    if not margins:
        return REST
    nearest = min(margins)
    low = sum(1 for m in margins if m < round(LOW_MARGIN * 1000))
    if nearest < round(NEAR_MARGIN * 1000):
        return ReviewPriority(ReviewTier.NEAR, nearest, low)
    if low >= MANY_LOW:
        return ReviewPriority(ReviewTier.MANY_LOW, nearest, low)
    return ReviewPriority(ReviewTier.REST, nearest, low)


def labels_priority(
    labels: Iterable[Label], thresholds: Mapping[str, float], default_threshold: float
) -> ReviewPriority:
    """The priority of a pre-label's boxes; `thresholds` maps a detector class name to the
    threshold the run applied to it (the mapping snapshot's row, or its default)."""
    return review_priority(
        (label.score, thresholds.get(label.detector_class, default_threshold)) for label in labels
    )


def key_value(key: str) -> int:
    """A stored key's number (what exports and the API show)."""
    return int(key[:KEY_DIGITS])
