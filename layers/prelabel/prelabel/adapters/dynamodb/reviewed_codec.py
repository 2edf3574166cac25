"""Reviewed boxes in a few bytes: entry names once, then one short row per box, as the
pre-label codec (label_codec.py) does. Corners are kept to 1/1000 pixel, far below what IoU
can tell apart; `crowd` and `difficult` cost a byte only where set."""

from __future__ import annotations

import json
from collections.abc import Sequence

from prelabel.domain.entities import Box
from prelabel.domain.reviewed_labels import StoredBox

CROWD = 1
DIFFICULT = 2


def _flags(box: StoredBox) -> int:
    return (CROWD if box.crowd else 0) | (DIFFICULT if box.difficult else 0)


def encode_boxes(boxes: Sequence[StoredBox]) -> str:
    names = {b.entry_id: b.entry_name for b in boxes}
    rows: list[list[object]] = []
    for b in boxes:
        row: list[object] = [b.entry_id, *(round(v, 3) for v in b.box.as_list())]
        if _flags(b):
            row.append(_flags(b))
        rows.append(row)
    return json.dumps({"n": names, "l": rows}, separators=(",", ":"), ensure_ascii=False)


def decode_boxes(text: str | None) -> tuple[StoredBox, ...]:
    if not text:
        return ()
    doc = json.loads(text)
    names: dict[str, str] = doc.get("n", {})
    boxes = []
    for entry_id, x1, y1, x2, y2, *rest in doc.get("l", []):
        flags = int(rest[0]) if rest else 0
        boxes.append(
            StoredBox(
                entry_id,
                names.get(entry_id, entry_id),
                Box(float(x1), float(y1), float(x2), float(y2)),
                crowd=bool(flags & CROWD),
                difficult=bool(flags & DIFFICULT),
            )
        )
    return tuple(boxes)
