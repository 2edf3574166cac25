"""The baseline for benchmarks/worker.py: `prepare_image` as it was before tiles and budgets.

A frozen copy of prelabel/imaging/preprocess.py at commit 8f59791 (convert to RGB at full size,
then orient, then shrink), so the benchmark measures before and after in the same run. Not used
by the product.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 50_000_000
MAX_BYTES = 50 * 1024 * 1024
# EXIF orientations that swap width and height (rotations by 90 or 270 degrees).
_SWAPS_AXES = {5, 6, 7, 8}
_EXIF_ORIENTATION = 0x0112


class ImageRejected(ValueError):
    """The image cannot be pre-labeled; the message is the task's FAILED reason."""


@dataclass(frozen=True, slots=True)
class PreparedImage:
    payload: bytes
    width: int
    height: int
    sent_width: int
    sent_height: int

    @property
    def scale(self) -> tuple[float, float]:
        return self.width / self.sent_width, self.height / self.sent_height


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("L").convert("RGB")
    if img.mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
    if img.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
        return background
    return img.convert("RGB")


def prepare_image(data: bytes, target: int, quality: int = 90) -> PreparedImage:
    """Decode (bounded), orient, convert to RGB, shrink to fit `target`, re-encode as JPEG."""
    if not data:
        raise ImageRejected("empty file")
    if len(data) > MAX_BYTES:
        raise ImageRejected(f"file too large: {len(data)} bytes (limit {MAX_BYTES})")
    try:
        img: Image.Image = Image.open(io.BytesIO(data))
        raw_w, raw_h = img.size
        if raw_w <= 0 or raw_h <= 0:
            raise ImageRejected(f"image has no pixels ({raw_w}x{raw_h})")
        if raw_w * raw_h > MAX_PIXELS:
            raise ImageRejected(
                f"image too large: {raw_w}x{raw_h} pixels (limit {MAX_PIXELS // 1_000_000} MP)"
            )
        orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
        width, height = (raw_h, raw_w) if orientation in _SWAPS_AXES else (raw_w, raw_h)
        if img.format == "JPEG":
            img.draft("RGB", (target, target))
        img.load()
        if orientation not in (1, None):
            # exif_transpose copies the image even when there is nothing to turn.
            img = ImageOps.exif_transpose(img) or img
        img = _to_rgb(img)
        img.thumbnail((target, target), Image.Resampling.BILINEAR, reducing_gap=None)
        out = io.BytesIO()
        img.save(out, "JPEG", quality=quality)
    except ImageRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"image too large ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(f"not a readable image ({type(exc).__name__})") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageRejected(f"corrupt or truncated image ({type(exc).__name__}: {exc})") from exc
    return PreparedImage(out.getvalue(), width, height, img.width, img.height)
