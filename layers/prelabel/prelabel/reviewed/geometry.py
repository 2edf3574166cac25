"""Values out of an untrusted file, and boxes in pixels of the image as displayed.

Each format states its box its own way (COCO `[x, y, w, h]` in pixels, Label Studio percent of
the image with a rotation about the top-left corner, CVAT's COCO a rotation about the centre,
VOC corners); each reader turns it into corners here, and `finish` clips them to the image.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prelabel.domain.entities import Box
from prelabel.reviewed.report import Finding

# Coordinates past this many pixels are no image's (Prelabel reads images up to 50 Mpx).
MAX_COORDINATE = 10_000_000.0
MAX_SIDE = 1_000_000
# Clipping by less than this is float noise from percent round trips, not worth a count.
CLIP_TOLERANCE = 0.001
DECIMALS = 4


class Malformed(Exception):
    """One entry of the file (an image, an annotation) is unreadable at `place`; the reader
    counts it and goes on with the next entry."""

    def __init__(self, place: str, problem: str) -> None:
        super().__init__(f"{place}: {problem}")
        self.place = place
        self.problem = problem


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def number(value: Any, place: str) -> float:
    # type() rather than isinstance: bool is an int, and this runs once per coordinate.
    if type(value) not in (int, float):
        raise Malformed(place, f"{shown(value)} is not a number")
    if not -MAX_COORDINATE <= value <= MAX_COORDINATE:  # NaN compares false too
        raise Malformed(place, f"{shown(value)} is out of range")
    return float(value)


def side(value: Any, place: str) -> int | None:
    """An image width or height: None where the file leaves it out (null, 0, "")."""
    if isinstance(value, str):
        try:
            value = float(value.strip()[:20]) if value.strip() else None
        except ValueError:
            raise Malformed(place, f"{shown(value)} is not a whole number of pixels") from None
    if value is None or (value == 0 and not isinstance(value, bool)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SIDE:
        raise Malformed(place, f"{shown(value)} is not a whole number of pixels up to {MAX_SIDE:,}")
    return value


def text(value: Any, place: str, limit: int = 1024) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Malformed(place, f"{shown(value)} is not a non-empty text")
    if len(value) > limit:
        raise Malformed(place, f"a text of {len(value):,} characters; at most {limit:,}")
    return value


def obj(value: Any, place: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(place, f"{shown(value)} is not an object")
    return value


def rotated_bounds(
    corner: tuple[float, float], size: tuple[float, float], degrees: float, about_centre: bool
) -> tuple[float, float, float, float]:
    """The axis-aligned box around the rectangle at `corner` (top-left before rotation) of
    `size`, turned by `degrees` clockwise on screen (y down) about its top-left corner or its
    centre."""
    (x, y), (w, h) = corner, size
    theta = math.radians(degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    px, py = (x + w / 2, y + h / 2) if about_centre else (x, y)
    xs, ys = [], []
    for cx, cy in ((x, y), (x + w, y), (x + w, y + h), (x, y + h)):
        dx, dy = cx - px, cy - py
        xs.append(px + dx * cos - dy * sin)
        ys.append(py + dx * sin + dy * cos)
    return min(xs), min(ys), max(xs), max(ys)


def is_turned(degrees: float) -> bool:
    return abs(math.remainder(degrees, 360.0)) > 1e-9


@dataclass(frozen=True, slots=True)
class Finished:
    box: Box | None
    # Why the box is dropped (box None) or what was changed to keep it.
    finding: Finding | None = None


def finish(corners: tuple[float, float, float, float], size: tuple[int, int] | None) -> Finished:
    """The box clipped to the image (to x, y >= 0 where its size is unknown); dropped when it
    has no area or none of it is inside."""
    x1, y1, x2, y2 = corners
    if not (x2 > x1 and y2 > y1):
        return Finished(None, Finding.EMPTY_BOX)
    width, height = size if size else (math.inf, math.inf)
    cx1, cy1 = min(max(x1, 0.0), width), min(max(y1, 0.0), height)
    cx2, cy2 = min(max(x2, 0.0), width), min(max(y2, 0.0), height)
    if not (cx2 > cx1 and cy2 > cy1):
        return Finished(None, Finding.OUTSIDE_IMAGE)
    moved = max(abs(cx1 - x1), abs(cy1 - y1), abs(cx2 - x2), abs(cy2 - y2))
    box = Box(*(round(float(v), DECIMALS) for v in (cx1, cy1, cx2, cy2)))
    if box.x2 <= box.x1 or box.y2 <= box.y1:  # a sliver that rounds to nothing
        return Finished(None, Finding.EMPTY_BOX)
    return Finished(box, Finding.CLIPPED if moved > CLIP_TOLERANCE else None)
