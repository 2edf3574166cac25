"""A review sample: pre-labeled tasks drawn at random, stratified by class, sized to calibrate.

**How many boxes a class needs.** A threshold is calibrated when the precision of the boxes at
or above it has its 95% Wilson lower bound at the target (prelabel.quality.calibration). With
the default target 0.9, a class whose pre-labels are right 95% of the time (halfway between
the target and perfect) gets there with DEFAULT_BOXES_PER_CLASS = boxes_needed(0.95, 0.9) =
139 reviewed boxes; a perfect class needs 35, one right 93% of the time 385. So 139 boxes a
class by default: enough to calibrate a class that is comfortably above the target.

**Which tasks.** Every pre-labeled task gets a rank, a hash of the seed and its id: a random
order that the seed reproduces. Per class, the sample takes tasks in rank order until the
class has its boxes (counting the class's boxes in each task), or the project runs out of
them. The sample is the union over classes. This is a bottom-k per class: it keeps, for each
class, the tasks of the lowest ranks whose boxes reach the target (at most `boxes` tasks a
class, whatever the project's size), so one pass over the pre-labels in any order, in any
number of slices, picks the same tasks. Adding a task twice changes nothing, so a slice read
again after a crash leaves the sample as it was.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prelabel.domain.errors import InvalidInput
from prelabel.quality.bounds import DEFAULT_TARGET_PRECISION, boxes_needed

# Halfway between the default target and perfect precision.
ASSUMED_PRECISION = (1 + DEFAULT_TARGET_PRECISION) / 2
DEFAULT_BOXES_PER_CLASS = boxes_needed(ASSUMED_PRECISION, DEFAULT_TARGET_PRECISION) or 139
# Bounds what a sample holds: at most this many tasks a class.
MAX_BOXES_PER_CLASS = 1000
MAX_SEED = 2**31 - 1


def check_boxes_per_class(boxes: int) -> int:
    if not 1 <= boxes <= MAX_BOXES_PER_CLASS:
        raise InvalidInput(
            f"boxes_per_class: {boxes} is outside [1, {MAX_BOXES_PER_CLASS}]",
            field="boxes_per_class",
        )
    return boxes


def rank(seed: int, task_id: str) -> int:
    """The task's place in the sample's random order (64 bits of a keyed hash)."""
    digest = hashlib.blake2b(task_id.encode(), digest_size=8, key=str(seed).encode()).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True, slots=True)
class ClassDraw:
    """What the draw took for one class: its tasks (lowest ranks first) and their boxes of the
    class; `short` when the project held fewer boxes of it than the target."""

    class_key: str
    tasks: tuple[str, ...]
    boxes: int
    short: bool


class StratifiedSampler:
    """Per class, a max-heap of (rank, task, boxes of the class) holding the lowest-ranked
    tasks whose boxes reach the target: when the heap without its highest rank still reaches
    it, that task is not needed and leaves."""

    def __init__(self, boxes_per_class: int, seed: int) -> None:
        self.boxes = check_boxes_per_class(boxes_per_class)
        self.seed = seed
        self._heaps: dict[str, list[tuple[int, str, int]]] = {}
        self._kept: dict[str, set[str]] = {}
        self._totals: dict[str, int] = {}

    def add(self, task_id: str, counts: Mapping[str, int]) -> None:
        """A pre-labeled task with its boxes per class."""
        r = rank(self.seed, task_id)
        for class_key, n in counts.items():
            if n > 0:
                self._offer(class_key, r, task_id, n)

    def _offer(self, class_key: str, r: int, task_id: str, n: int) -> None:
        kept = self._kept.setdefault(class_key, set())
        if task_id in kept:
            return
        heap = self._heaps.setdefault(class_key, [])
        heapq.heappush(heap, (-r, task_id, n))
        kept.add(task_id)
        total = self._totals.get(class_key, 0) + n
        while total - heap[0][2] >= self.boxes:
            _, dropped, m = heapq.heappop(heap)
            kept.discard(dropped)
            total -= m
        self._totals[class_key] = total

    def draws(self) -> list[ClassDraw]:
        out = []
        for class_key in sorted(self._heaps):
            ordered = sorted((-neg, task_id) for neg, task_id, _ in self._heaps[class_key])
            total = self._totals[class_key]
            tasks = tuple(task_id for _, task_id in ordered)
            out.append(ClassDraw(class_key, tasks, total, total < self.boxes))
        return out

    def chosen(self) -> list[str]:
        """The sample: every class's tasks, once each, in id order."""
        return sorted(set().union(*self._kept.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "boxes": self.boxes,
            "seed": self.seed,
            "classes": {c: [[t, n] for _, t, n in heap] for c, heap in self._heaps.items()},
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> StratifiedSampler:
        sampler = cls(int(doc["boxes"]), int(doc["seed"]))
        for class_key, picks in doc["classes"].items():
            for task_id, n in picks:
                sampler._offer(class_key, rank(sampler.seed, task_id), task_id, int(n))
        return sampler
