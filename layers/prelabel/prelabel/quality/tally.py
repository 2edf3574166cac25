"""Mergeable counts: what a job adds task by task, slice by slice, and stores between slices.

A class's tally keeps its true and false positives per score bin (1000 bins of 0.001), not
the ranked list of every detection: its size is fixed (at most 1000 non-empty bins, whatever
the number of images), two tallies merge by adding, and the precision-recall curve at every
0.01 threshold reads exactly from it. AP50 needs the ranking inside a bin, which the tally
does not keep: `prelabel.quality.average_precision.binned_ap50_bounds` gives the range it can
lie in, and the report the middle of that range.

Memory: 16 KB a (scope, class); adding a task is O(boxes) per scope it counts in.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from prelabel.quality.bins import SCORE_BINS, score_bin
from prelabel.quality.evidence import TaskEvidence
from prelabel.quality.matching import ImageMatch, Verdict, match_image

FORMAT_VERSION = 1


class TallyFormatError(ValueError):
    """A stored tally that is not in the shape `to_dict` writes."""


def _zeros() -> array[int]:
    return array("q", bytes(8 * SCORE_BINS))


@dataclass(eq=False)
class ClassTally:
    """One class within one scope."""

    reviewed: int = 0  # reviewed boxes of the class
    tp: array[int] = field(default_factory=_zeros)  # true positives per score bin
    fp: array[int] = field(default_factory=_zeros)  # false positives per score bin
    wrong_class: int = 0  # false positives that sit on a missed box of another class
    confused_with: dict[str, int] = field(default_factory=dict)  # that class -> count
    beyond_cap: int = 0  # predicted boxes past COCOeval's 100 per image: not evaluated
    min_score: float | None = None  # lowest score evaluated

    def add_box(self, score: float, verdict: Verdict, reviewed_as: str | None) -> None:
        if verdict is Verdict.BEYOND_CAP:
            self.beyond_cap += 1
            return
        b = score_bin(score)
        if verdict is Verdict.MATCH:
            self.tp[b] += 1
        else:
            self.fp[b] += 1
        if verdict is Verdict.WRONG_CLASS and reviewed_as is not None:
            self.wrong_class += 1
            self.confused_with[reviewed_as] = self.confused_with.get(reviewed_as, 0) + 1
        if self.min_score is None or score < self.min_score:
            self.min_score = score

    def merge(self, other: ClassTally) -> None:
        self.reviewed += other.reviewed
        for b in range(SCORE_BINS):
            self.tp[b] += other.tp[b]
            self.fp[b] += other.fp[b]
        self.wrong_class += other.wrong_class
        for cls, n in other.confused_with.items():
            self.confused_with[cls] = self.confused_with.get(cls, 0) + n
        self.beyond_cap += other.beyond_cap
        if other.min_score is not None and (
            self.min_score is None or other.min_score < self.min_score
        ):
            self.min_score = other.min_score

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClassTally) and self.to_dict() == other.to_dict()

    def to_dict(self) -> dict[str, Any]:
        """Compact and JSON-ready: only the bins that hold a box, as [bin, tp, fp]."""
        return {
            "reviewed": self.reviewed,
            "bins": [
                [b, self.tp[b], self.fp[b]] for b in range(SCORE_BINS) if self.tp[b] or self.fp[b]
            ],
            "wrong_class": self.wrong_class,
            "confused_with": dict(sorted(self.confused_with.items())),
            "beyond_cap": self.beyond_cap,
            "min_score": self.min_score,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> ClassTally:
        try:
            tally = cls(
                reviewed=_count(doc["reviewed"]),
                wrong_class=_count(doc["wrong_class"]),
                confused_with={str(k): _count(v) for k, v in doc["confused_with"].items()},
                beyond_cap=_count(doc["beyond_cap"]),
                min_score=_score(doc["min_score"]),
            )
            seen: set[int] = set()
            for b, tp, fp in doc["bins"]:
                if not (isinstance(b, int) and 0 <= b < SCORE_BINS) or b in seen:
                    raise TallyFormatError(f"bins: {b!r} is not a new bin in [0, {SCORE_BINS})")
                seen.add(b)
                tally.tp[b], tally.fp[b] = _count(tp), _count(fp)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, TallyFormatError):
                raise
            raise TallyFormatError(f"not a class tally: {exc!r}") from exc
        return tally


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TallyFormatError(f"{value!r} is not a count")
    return value


def _score(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise TallyFormatError(f"min_score: {value!r} is not a score in [0, 1]")
    return float(value)


class ScopeKind(StrEnum):
    ALL = "all"  # every task of the project with pre-labels and reviewed labels
    MODEL = "model"  # the tasks whose pre-label one model version wrote
    RUN = "run"  # the tasks one run pre-labeled


@dataclass(frozen=True, slots=True, order=True)
class Scope:
    kind: ScopeKind
    value: str = ""

    @property
    def key(self) -> str:
        return self.kind.value if self.kind is ScopeKind.ALL else f"{self.kind.value}:{self.value}"

    @classmethod
    def parse(cls, key: str) -> Scope:
        kind, _, value = key.partition(":")
        try:
            return cls(ScopeKind(kind), value)
        except ValueError as exc:
            raise TallyFormatError(f"scope: {key!r} is not all, model:... or run:...") from exc


ALL = Scope(ScopeKind.ALL)


@dataclass(eq=False)
class ScopeTally:
    tasks: int = 0  # tasks counted: each has a pre-label and reviewed labels
    classes: dict[str, ClassTally] = field(default_factory=dict)

    def class_tally(self, class_key: str) -> ClassTally:
        tally = self.classes.get(class_key)
        if tally is None:
            tally = self.classes[class_key] = ClassTally()
        return tally

    def add(self, match: ImageMatch) -> None:
        self.tasks += 1
        for cls in match.reviewed_classes:
            self.class_tally(cls).reviewed += 1
        for v in match.verdicts:
            reviewed_as = (
                None if v.reviewed_index is None else match.reviewed_classes[v.reviewed_index]
            )
            self.class_tally(v.class_key).add_box(v.score, v.verdict, reviewed_as)

    def merge(self, other: ScopeTally) -> None:
        self.tasks += other.tasks
        for cls, tally in other.classes.items():
            self.class_tally(cls).merge(tally)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScopeTally) and self.to_dict() == other.to_dict()

    def to_dict(self) -> dict[str, Any]:
        classes = {cls: self.classes[cls].to_dict() for cls in sorted(self.classes)}
        return {"tasks": self.tasks, "classes": classes}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> ScopeTally:
        try:
            classes = {str(k): ClassTally.from_dict(v) for k, v in doc["classes"].items()}
            return cls(_count(doc["tasks"]), classes)
        except (KeyError, TypeError, AttributeError) as exc:
            raise TallyFormatError(f"not a scope tally: {exc!r}") from exc


@dataclass(eq=False)
class QualityAccumulator:
    """Tallies per scope: all tasks, each model version, and each run when `by_run`."""

    by_run: bool = False
    scopes: dict[Scope, ScopeTally] = field(default_factory=dict)

    def add_task(self, task: TaskEvidence) -> ImageMatch:
        """Match one task's boxes and count them in every scope it belongs to; the match is
        returned for whoever wants the verdicts (it is not kept)."""
        match = match_image(task.predicted, task.reviewed)
        for scope in self.scopes_of(task):
            self.scope(scope).add(match)
        return match

    def scopes_of(self, task: TaskEvidence) -> Iterable[Scope]:
        yield ALL
        yield Scope(ScopeKind.MODEL, task.model_version)
        if self.by_run:
            yield Scope(ScopeKind.RUN, task.run_id)

    def scope(self, scope: Scope) -> ScopeTally:
        tally = self.scopes.get(scope)
        if tally is None:
            tally = self.scopes[scope] = ScopeTally()
        return tally

    def merge(self, other: QualityAccumulator) -> None:
        """Add another slice's tallies (each task must be in one slice only)."""
        for scope, tally in other.scopes.items():
            self.scope(scope).merge(tally)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QualityAccumulator) and self.to_dict() == other.to_dict()

    def to_dict(self) -> dict[str, Any]:
        scopes = {s.key: self.scopes[s].to_dict() for s in sorted(self.scopes)}
        return {"version": FORMAT_VERSION, "by_run": self.by_run, "scopes": scopes}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> QualityAccumulator:
        try:
            if doc["version"] != FORMAT_VERSION:
                raise TallyFormatError(f"version: {doc['version']!r} is not {FORMAT_VERSION}")
            scopes = {Scope.parse(k): ScopeTally.from_dict(v) for k, v in doc["scopes"].items()}
            return cls(bool(doc["by_run"]), scopes)
        except (KeyError, TypeError, AttributeError) as exc:
            raise TallyFormatError(f"not a quality accumulator: {exc!r}") from exc
