"""Shrink a decoded image to the detector's size and RGB without a second full-size copy.

Converting a big RGBA, palette, 16-bit or CMYK image to RGB first and shrinking after holds the
decoded image plus one or more converted copies of the same size. Here each tile of the decoded
image is converted and box-reduced on its own, so only the decoded image and one tile live at
full resolution; the tiles' edges sit on the reduction grid, so the result is the same as
reducing the whole converted image at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PIL import Image

# Pillow's own two-step resize uses the same gap: the last (bilinear) step still shrinks at least
# twice, which is indistinguishable from resampling the full image at the detector's size.
REDUCING_GAP = 2.0
# Pixels of one tile at full resolution; converting it holds about five tile-sized buffers.
TILE_PIXELS = 1 << 20
# Buffers that converting one tile to RGB holds at once, in bytes per pixel of the tile (the
# cropped tile, a 32-bit intermediate, the white background, the alpha mask, the RGB tile).
TILE_BYTES_PER_PIXEL = 20
# Modes that resize directly: no conversion is needed before shrinking.
_DIRECT = {"RGB", "L"}


def fit(size: tuple[int, int], target: int) -> tuple[int, int]:
    """The size `Image.thumbnail((target, target))` gives an image of `size` (no upscaling)."""
    width, height = size
    if target >= width and target >= height:
        return size
    aspect = width / height

    def round_aspect(number: float, key: Callable[[int], float]) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    if aspect <= 1:
        return round_aspect(target * aspect, key=lambda n: abs(aspect - n / target)), target
    return target, round_aspect(
        target / aspect, key=lambda n: 0 if n == 0 else abs(aspect - target / n)
    )


def reduction(size: tuple[int, int], final: tuple[int, int]) -> tuple[int, int]:
    """Integer box-reduction factors per axis that keep at least REDUCING_GAP x the final size."""
    return (
        max(1, int(size[0] / final[0] / REDUCING_GAP)),
        max(1, int(size[1] / final[1] / REDUCING_GAP)),
    )


def tile_shape(size: tuple[int, int], factors: tuple[int, int]) -> tuple[int, int]:
    """Width and height of the tiles: multiples of the factors, about TILE_PIXELS each."""
    width, height = size
    fx, fy = factors
    if width * fy <= TILE_PIXELS:
        rows = max(fy, TILE_PIXELS // width // fy * fy)
        return width, min(rows, height + (-height) % fy)
    cols = max(fx, TILE_PIXELS // fy // fx * fx)
    return cols, fy


def working_bytes(size: tuple[int, int], mode: str, final: tuple[int, int]) -> int:
    """Bytes `shrink_to_rgb` allocates besides the decoded image (upper bound)."""
    factors = reduction(size, final)
    reduced = -(-size[0] // factors[0]) * -(-size[1] // factors[1]) * 4
    # Pillow's resize keeps the horizontal pass (final width x source rows) between its passes.
    between_passes = final[0] * -(-size[1] // factors[1]) * 4
    out = final[0] * final[1] * 4 * 2  # the RGB result and its turned copy
    if mode in _DIRECT:
        return reduced + between_passes + out
    tile_w, tile_h = tile_shape(size, factors)
    return tile_w * tile_h * TILE_BYTES_PER_PIXEL + reduced + between_passes + out


def to_rgb(img: Image.Image) -> Image.Image:
    """RGB as people see the image: transparency on white, 16-bit scaled to 8 bits."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("L").convert("RGB")
    if img.mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
    if img.mode in ("RGBA", "LA", "PA"):
        rgba = img if img.mode == "RGBA" else img.convert("RGBA")
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def shrink_to_rgb(img: Image.Image, final: tuple[int, int]) -> Image.Image:
    """`img` (loaded, any mode) as an RGB image of exactly `final` size."""
    size = img.size
    factors = reduction(size, final)
    if img.mode in _DIRECT:
        small = img
        if size != final:
            small = img.resize(final, Image.Resampling.BILINEAR, reducing_gap=REDUCING_GAP)
        return to_rgb(small)
    reduced = _reduce_tiles(img, factors)
    box = (0.0, 0.0, size[0] / factors[0], size[1] / factors[1])
    if reduced.size == final:
        return reduced
    return reduced.resize(final, Image.Resampling.BILINEAR, box=box)


def _reduce_tiles(img: Image.Image, factors: tuple[int, int]) -> Image.Image:
    width, height = img.size
    fx, fy = factors
    tile_w, tile_h = tile_shape(img.size, factors)
    out = Image.new("RGB", (-(-width // fx), -(-height // fy)))
    for top in range(0, height, tile_h):
        for left in range(0, width, tile_w):
            box = (left, top, min(width, left + tile_w), min(height, top + tile_h))
            tile = to_rgb(img.crop(box))
            if factors != (1, 1):
                tile = tile.reduce(factors)
            out.paste(tile, (left // fx, top // fy))
    return out
