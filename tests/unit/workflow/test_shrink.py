"""Shrinking tile by tile gives what converting the whole image and then shrinking gives."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from prelabel.imaging.shrink import TILE_PIXELS, fit, shrink_to_rgb, tile_shape, to_rgb


def _picture(mode: str, size: tuple[int, int]) -> Image.Image:
    """Gradients and shapes in every band (alpha included), so averaging errors would show."""
    width, height = size
    grey = Image.linear_gradient("L").resize(size)
    other = Image.radial_gradient("L").resize(size)
    draw = ImageDraw.Draw(other)
    for k in range(8):
        draw.rectangle(
            (k * width // 9, k * height // 11, k * width // 9 + width // 7, height - 1),
            fill=(k * 53) % 256,
        )
    rgba = Image.merge("RGBA", [grey, other, grey.transpose(Image.Transpose.ROTATE_180), other])
    if mode == "P":
        pal = rgba.convert("RGB").quantize(64)
        pal.info["transparency"] = 3
        return pal
    if mode == "I;16":
        return grey.convert("I").point(lambda v: v * 257).convert("I;16")
    return rgba.convert(mode)


@pytest.mark.parametrize("target", [1, 7, 16, 33])
def test_fit_is_the_size_pillow_thumbnail_gives(target: int) -> None:
    # Given every image size up to 40x40 (tall, wide, square, smaller than the target)
    for width in range(1, 41):
        for height in range(1, 41):
            img = Image.new("L", (width, height))
            # When Pillow makes a thumbnail of it and fit computes the size from the header
            img.thumbnail((target, target))
            # Then both agree
            assert fit((width, height), target) == img.size, (width, height)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "I;16", "CMYK", "RGB", "L"])
@pytest.mark.parametrize(
    ("size", "final"),
    [
        ((2100, 1300), (416, 258)),  # several full-width strips
        ((100_000, 40), (416, 1)),  # one row of the reduction grid is wider than a tile
        ((300, 200), (300, 200)),  # nothing to shrink: converted only
    ],
)
def test_tiles_give_the_whole_image_result(
    mode: str, size: tuple[int, int], final: tuple[int, int]
) -> None:
    # Given an image in a mode that needs converting, larger than one tile or not
    img = _picture(mode, size)
    # When it is shrunk tile by tile
    small = shrink_to_rgb(img, final)
    # Then it is RGB at exactly the final size, pixel for pixel what converting the whole image
    # first and shrinking it with Pillow's own two-step resize gives
    expected = to_rgb(img)
    if expected.size != final:
        expected = expected.resize(final, Image.Resampling.BILINEAR, reducing_gap=2.0)
    assert small.mode == "RGB"
    assert small.size == final
    assert small.tobytes() == expected.tobytes()


def test_tiles_stay_small_and_sit_on_the_reduction_grid() -> None:
    # Given images of every shape the pixel cap allows, with their reduction factors
    for size, factors in [
        ((7000, 7000), (8, 8)),
        ((50_000, 1000), (60, 62)),
        ((1000, 50_000), (62, 60)),
        ((50_000_000, 1), (60_096, 1)),
        ((1, 50_000_000), (1, 60_096)),
    ]:
        # When the tiles are chosen
        tile_w, tile_h = tile_shape(size, factors)
        # Then each tile is a whole number of reduction cells, and not much over TILE_PIXELS
        assert tile_w % factors[0] == 0 or tile_w == size[0]
        assert tile_h % factors[1] == 0
        assert tile_w * tile_h <= TILE_PIXELS + factors[0] * factors[1] * 64, size
