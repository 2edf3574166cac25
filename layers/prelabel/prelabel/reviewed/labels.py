"""A reviewed box's label -> one of the project's bbox entries.

In order: the entry id the file carries beside the name (Prelabel's COCO `prelabel_entry_id`)
when it is a bbox entry of the project; the name exactly; an entry id written as the name; the
name without regard to case and surrounding spaces. A name that two bbox entries share (at
the step that finds it) is ambiguous and matches neither; a name that only a polygon or other
non-box entry has is reported as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.reviewed.report import Finding


def _folded(name: str) -> str:
    return name.strip().casefold()


@dataclass(frozen=True, slots=True)
class LabelMatch:
    """The entry a label names, or why none (`finding`: UNKNOWN_LABEL, AMBIGUOUS_LABEL or
    NOT_A_BOX_ENTRY)."""

    entry: LabelEntry | None
    finding: Finding | None = None


class LabelMatcher:
    """The project's label configuration, indexed for `match`. Answers are cached: a file
    names the same few labels again and again."""

    def __init__(self, label_config: Sequence[LabelEntry]) -> None:
        boxes = [e for e in label_config if e.geometry is Geometry.BBOX]
        self._by_id = {e.id: e for e in boxes}
        self._by_name: dict[str, list[LabelEntry]] = {}
        self._by_folded: dict[str, list[LabelEntry]] = {}
        for e in boxes:
            self._by_name.setdefault(e.name, []).append(e)
            self._by_folded.setdefault(_folded(e.name), []).append(e)
        self._other_names = {
            _folded(e.name) for e in label_config if e.geometry is not Geometry.BBOX
        } | {e.id for e in label_config if e.geometry is not Geometry.BBOX}
        self._cache: dict[tuple[str, str | None], LabelMatch] = {}

    def match(self, name: str, entry_hint: str | None = None) -> LabelMatch:
        key = (name, entry_hint)
        found = self._cache.get(key)
        if found is None:
            found = self._match(name, entry_hint)
            if len(self._cache) < 10_000:
                self._cache[key] = found
        return found

    def _match(self, name: str, entry_hint: str | None) -> LabelMatch:
        if entry_hint is not None and entry_hint in self._by_id:
            return LabelMatch(self._by_id[entry_hint])
        for candidates in (
            self._by_name.get(name, []),
            [self._by_id[name]] if name in self._by_id else [],
            self._by_folded.get(_folded(name), []),
        ):
            if len(candidates) == 1:
                return LabelMatch(candidates[0])
            if len(candidates) > 1:
                return LabelMatch(None, Finding.AMBIGUOUS_LABEL)
        if _folded(name) in self._other_names or name in self._other_names:
            return LabelMatch(None, Finding.NOT_A_BOX_ENTRY)
        return LabelMatch(None, Finding.UNKNOWN_LABEL)
