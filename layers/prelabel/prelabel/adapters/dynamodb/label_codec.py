"""Pre-labels in a few bytes: a compact JSON text per task instead of a list of maps.

A map per label spells every attribute name again (~250 bytes a label); this spells only the
values (~45 bytes), so a typical pre-label item stays under the 1 KB that a write unit covers.
Label ids, the source and the class name are derived on reading.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from prelabel.domain.detector_classes import COCO_CLASS_NAMES
from prelabel.domain.entities import AI_PRE_LABEL, Box, Label
from prelabel.domain.prelabels import label_id

_CLASS_ID = {name: i for i, name in enumerate(COCO_CLASS_NAMES)}


def encode_model(name: str, version: str) -> str:
    return f"{name}\t{version}"


def decode_model(text: str | None) -> tuple[str, str]:
    name, _, version = (text or "").partition("\t")
    return name, version


def encode_labels(labels: Sequence[Label]) -> str:
    names = {lbl.entry_id: lbl.entry_name for lbl in labels}
    rows = [
        [
            lbl.entry_id,
            _CLASS_ID.get(lbl.detector_class, lbl.detector_class),
            lbl.score,
            *lbl.box.as_list(),
        ]
        for lbl in labels
    ]
    return json.dumps({"n": names, "l": rows}, separators=(",", ":"), ensure_ascii=False)


def _class_name(value: Any) -> str:
    if isinstance(value, int) and 0 <= value < len(COCO_CLASS_NAMES):
        return COCO_CLASS_NAMES[value]
    return str(value)


def decode_labels(task_id: str, text: str | None, model: tuple[str, str]) -> tuple[Label, ...]:
    if not text:
        return ()
    doc = json.loads(text)
    names: dict[str, str] = doc.get("n", {})
    labels = []
    for i, (entry_id, cls, score, x1, y1, x2, y2) in enumerate(doc.get("l", [])):
        labels.append(
            Label(
                label_id=label_id(task_id, i),
                entry_id=entry_id,
                entry_name=names.get(entry_id, entry_id),
                box=Box(float(x1), float(y1), float(x2), float(y2)),
                detector_class=_class_name(cls),
                score=float(score),
                model_name=model[0],
                model_version=model[1],
                source=AI_PRE_LABEL,
            )
        )
    return tuple(labels)


def entry_counts(text: str | None) -> dict[str, int]:
    """Boxes per label entry of an encoded pre-label, without building its labels."""
    counts: dict[str, int] = {}
    if text:
        for row in json.loads(text).get("l", []):
            counts[row[0]] = counts.get(row[0], 0) + 1
    return counts
