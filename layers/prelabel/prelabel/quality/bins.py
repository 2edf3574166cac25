"""Score bins of width 0.001 and the 0.01 threshold grid that lies on their edges.

A box scored s lies in bin b when b/1000 <= s < (b+1)/1000 as floats compare (score 1.0 goes
in the last bin). A threshold t = j/100 is the edge of bin 10*j, and both are the same float
(each is the correctly rounded value of the same fraction), so "score >= t" is exactly "bin
>= 10*j": the precision-recall curve read from bins is exact at every grid threshold.
"""

from __future__ import annotations

SCORE_BINS = 1000
BINS_PER_STEP = 10  # bins per 0.01 threshold step
THRESHOLD_STEPS = 100  # thresholds 0.01 ... 0.99 are steps 1 ... 99
MIN_STEP = 1


def score_bin(score: float) -> int:
    b = min(int(score * SCORE_BINS), SCORE_BINS - 1)
    # score * 1000 can round across an edge: settle it on the edges' own values.
    if b > 0 and score < b / SCORE_BINS:
        return b - 1
    if b + 1 < SCORE_BINS and score >= (b + 1) / SCORE_BINS:
        return b + 1
    return b


def threshold_of(step: int) -> float:
    return step / THRESHOLD_STEPS


def step_at_or_below(score: float) -> int:
    """The highest grid step whose threshold is <= score (0 when score < 0.01)."""
    return score_bin(score) // BINS_PER_STEP
