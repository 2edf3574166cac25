"""A project's label configuration: the entries labelers draw, each with a geometry type."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from prelabel.domain.errors import InvalidInput
from prelabel.domain.repeats import FirstPlaces

MAX_LABEL_ENTRIES = 200


class Geometry(StrEnum):
    BBOX = "bbox"
    POLYGON = "polygon"
    LINE = "line"
    POINT = "point"
    CLASSIFICATION = "classification"
    KEYPOINTS = "keypoints"
    MASK = "mask"


@dataclass(frozen=True, slots=True)
class LabelEntry:
    id: str
    name: str
    geometry: Geometry


def validate_label_config(entries: Sequence[LabelEntry]) -> tuple[LabelEntry, ...]:
    if len(entries) > MAX_LABEL_ENTRIES:
        raise InvalidInput(
            f"label_config has {len(entries)} entries; at most {MAX_LABEL_ENTRIES} are allowed",
            field="label_config",
        )
    ids = FirstPlaces[str]("label_config")
    for i, entry in enumerate(entries):
        ids.claim(i, entry.id, "id", f"{entry.id!r} is already used by")
    return tuple(entries)


def bbox_entries(entries: Sequence[LabelEntry]) -> tuple[LabelEntry, ...]:
    return tuple(e for e in entries if e.geometry is Geometry.BBOX)
