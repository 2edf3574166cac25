"""Pre-labels against reviewed labels on one image: the rule of pycocotools' COCOeval at a
single IoU threshold of 0.5, plus a name for each false positive.

Per class, detections are taken in score order (ties: their order in the input, as COCOeval's
stable sort keeps them) and only the first MAX_PER_CLASS count (COCOeval's maxDets=100 per
image and category). Each takes, among the reviewed boxes of its class that no earlier
detection took, the one with the highest IoU >= 0.5; of equal IoUs the later reviewed box wins,
as in COCOeval's loop. A detection that takes none is a false positive, and is then
- *wrong class* when it sits (IoU >= 0.5) on a reviewed box of another class that no
  prediction of that box's own class matched: the model found the object and named it wrongly.
  False positives claim such boxes greedily in score order (ties: input order), one box each,
  the highest IoU first; so each wrong-class box pairs with one miss of another class;
- *extra* otherwise (nothing there, a duplicate, or an object already found under its own
  class).

Cost per image: O(P log P + sum over classes of min(P_c, 100) * R_c + F * M) for P predicted
and R reviewed boxes, F false positives and M missed boxes: with ~10 boxes an image it is a
few hundred float operations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from prelabel.quality.evidence import PredictedBox, ReviewedBox, iou

IOU_THRESHOLD = 0.5
MAX_PER_CLASS = 100


class Verdict(StrEnum):
    MATCH = "match"  # a true positive
    WRONG_CLASS = "wrong_class"
    EXTRA = "extra"
    # Past the MAX_PER_CLASS best of its class on this image: not evaluated, as in COCOeval.
    BEYOND_CAP = "beyond_cap"


@dataclass(frozen=True, slots=True)
class BoxVerdict:
    class_key: str
    score: float
    verdict: Verdict
    # The reviewed box it matched (MATCH) or sits on (WRONG_CLASS), by position in the input.
    reviewed_index: int | None = None


@dataclass(frozen=True, slots=True)
class ImageMatch:
    verdicts: tuple[BoxVerdict, ...]  # one per predicted box, in input order
    reviewed_classes: tuple[str, ...]  # the class of each reviewed box, in input order
    missed: tuple[int, ...]  # reviewed boxes that no prediction of their class matched


def _by_class(class_keys: Iterable[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(class_keys):
        groups[key].append(i)
    return groups


def _best(
    candidate: PredictedBox,
    reviewed: Sequence[ReviewedBox],
    choices: Sequence[int],
    taken: set[int],
) -> int | None:
    """The untaken reviewed box of `choices` with the highest IoU >= 0.5 (later wins ties)."""
    best, best_iou = None, IOU_THRESHOLD
    for g in choices:
        if g in taken:
            continue
        overlap = iou(candidate.box, reviewed[g].box)
        if overlap < best_iou:
            continue
        best, best_iou = g, overlap
    return best


def match_image(predicted: Sequence[PredictedBox], reviewed: Sequence[ReviewedBox]) -> ImageMatch:
    """Every predicted box's verdict and the reviewed boxes missed (see the module's rule)."""
    verdicts: list[BoxVerdict | None] = [None] * len(predicted)
    truth = _by_class(box.class_key for box in reviewed)
    matched: set[int] = set()
    unmatched: list[int] = []
    for cls, members in _by_class(box.class_key for box in predicted).items():
        ranked = sorted(members, key=lambda i: -predicted[i].score)
        for i in ranked[MAX_PER_CLASS:]:
            verdicts[i] = BoxVerdict(cls, predicted[i].score, Verdict.BEYOND_CAP)
        for i in ranked[:MAX_PER_CLASS]:
            g = _best(predicted[i], reviewed, truth.get(cls, ()), matched)
            if g is None:
                unmatched.append(i)
            else:
                matched.add(g)
                verdicts[i] = BoxVerdict(cls, predicted[i].score, Verdict.MATCH, g)
    missed = [g for g in range(len(reviewed)) if g not in matched]
    _name_false_positives(predicted, reviewed, unmatched, missed, verdicts)
    return ImageMatch(
        tuple(v for v in verdicts if v is not None),
        tuple(box.class_key for box in reviewed),
        tuple(missed),
    )


def _name_false_positives(
    predicted: Sequence[PredictedBox],
    reviewed: Sequence[ReviewedBox],
    unmatched: list[int],
    missed: list[int],
    verdicts: list[BoxVerdict | None],
) -> None:
    claimed: set[int] = set()
    for i in sorted(unmatched, key=lambda i: (-predicted[i].score, i)):
        box = predicted[i]
        others = [g for g in missed if reviewed[g].class_key != box.class_key]
        g = _best(box, reviewed, others, claimed) if others else None
        if g is None:
            verdicts[i] = BoxVerdict(box.class_key, box.score, Verdict.EXTRA)
        else:
            claimed.add(g)
            verdicts[i] = BoxVerdict(box.class_key, box.score, Verdict.WRONG_CLASS, g)
