"""Proportions with their sample size and a 95% Wilson score lower bound.

Wilson's interval keeps its coverage near 95% down to a handful of boxes and never leaves
[0, 1] (the normal approximation does both badly at precisions near 1, where thresholds are
set). Every figure carries its `n`, so a reader sees how much evidence it rests on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The two-sided 95% normal quantile.
Z95 = 1.959963984540054
# The precision a class's calibrated threshold aims at unless a request names another.
DEFAULT_TARGET_PRECISION = 0.9
# Where the search for a sample size gives up: more reviews than any project holds.
MAX_BOXES_NEEDED = 1_000_000_000


def wilson_interval(hits: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of hits/n; None without evidence (n = 0)."""
    if n <= 0:
        return None
    p = hits / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    scale = 1 + z2 / n
    return max(0.0, (centre - margin) / scale), min(1.0, (centre + margin) / scale)


def wilson_lower(hits: float, n: float, z: float = Z95) -> float | None:
    bounds = wilson_interval(hits, n, z)
    return None if bounds is None else bounds[0]


@dataclass(frozen=True, slots=True)
class Proportion:
    """hits out of n, its value (None when n = 0) and its 95% Wilson lower bound."""

    hits: int
    n: int
    value: float | None
    lower: float | None

    @classmethod
    def of(cls, hits: int, n: int) -> Proportion:
        return cls(hits, n, hits / n if n else None, wilson_lower(hits, n))


def boxes_needed(observed: float, target: float) -> int | None:
    """The fewest boxes at which a precision of `observed` would have its Wilson lower bound
    reach `target`: if further reviews keep showing the precision seen so far, this many
    reviewed boxes make the target provable. None when `observed` is not above `target`
    (no number of boxes would prove it) or would need more than MAX_BOXES_NEEDED."""
    if observed <= target:
        return None

    def reaches(n: int) -> bool:
        lower = wilson_lower(observed * n, n)
        return lower is not None and lower >= target

    high = 1
    while not reaches(high):
        high *= 2
        if high > MAX_BOXES_NEEDED:
            return None
    low = high // 2  # reaches(low) is false, or low is 0
    while high - low > 1:
        mid = (low + high) // 2
        if reaches(mid):
            high = mid
        else:
            low = mid
    return high
