"""Preview images: a task's photo with its pre-label boxes drawn and labelled.

Boxes are in pixels of the image as displayed (EXIF orientation applied), so the photo is turned
upright with `ImageOps.exif_transpose` before anything is drawn on it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps

PALETTE = {
    "Vehicle": (255, 140, 0),
    "Person": (30, 144, 255),
    "Animal": (50, 205, 50),
}
OTHER = (220, 20, 60)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def render(image_bytes: bytes, labels: Sequence[Mapping[str, Any]]) -> Image.Image:
    """The upright photo (RGB) with one rectangle and caption ("Person 0.93") per label."""
    with Image.open(io.BytesIO(image_bytes)) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    draw = ImageDraw.Draw(image)
    scale = max(image.width, image.height)
    width = max(2, scale // 250)
    font = _font(max(11, scale // 45))
    for label in sorted(labels, key=lambda item: float(item.get("score", 0))):
        x1, y1, x2, y2 = (float(v) for v in label["box"])
        color = PALETTE.get(str(label.get("entry_name")), OTHER)
        draw.rectangle((x1, y1, x2, y2), outline=color, width=width)
        caption = f"{label.get('entry_name')} {float(label.get('score', 0)):.2f}"
        left, top, right, bottom = draw.textbbox((0, 0), caption, font=font)
        text_w, text_h = right - left, bottom - top
        # Caption above the box, or inside its top edge when the box touches the top.
        ty = y1 - text_h - 2 * width if y1 - text_h - 2 * width >= 0 else y1
        tx = min(max(0.0, x1), max(0.0, image.width - text_w - 2 * width))
        draw.rectangle((tx, ty, tx + text_w + 2 * width, ty + text_h + 2 * width), fill=color)
        draw.text((tx + width - left, ty + width - top), caption, fill=(0, 0, 0), font=font)
    return image


def write_preview(image_bytes: bytes, labels: Sequence[Mapping[str, Any]], target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    render(image_bytes, labels).save(target, "JPEG", quality=88)
    return target
