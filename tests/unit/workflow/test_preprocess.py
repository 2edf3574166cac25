"""Untrusted images: bounded decode, EXIF orientation, mode conversion, boxes mapped back."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat

from prelabel.imaging.preprocess import ImageRejected, prepare_image
from prelabel.imaging.shrink import to_rgb


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **kw)
    return out.getvalue()


def _sent(prepared_payload: bytes) -> Image.Image:
    return Image.open(io.BytesIO(prepared_payload))


def test_exif_rotation_swaps_axes_and_scale_maps_back_to_the_oriented_original() -> None:
    # Given a 400x200 JPEG whose EXIF says "rotate 90" (orientation 6): people see it 200x400
    img = Image.new("RGB", (400, 200), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _encode(img, "JPEG", exif=exif.tobytes())
    # When it is prepared for a 100-pixel detector input
    prepared = prepare_image(data, 100)
    # Then the original size is the oriented one, the sent image is portrait and fits 100
    assert (prepared.width, prepared.height) == (200, 400)
    sent = _sent(prepared.payload)
    assert sent.size == (prepared.sent_width, prepared.sent_height) == (50, 100)
    # And a box in sent pixels maps back to the oriented original's pixels
    sx, sy = prepared.scale
    assert (50 * sx, 100 * sy) == (200, 400)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "I;16", "1"])
def test_every_mode_becomes_rgb(mode: str) -> None:
    # Given an image in an unusual mode (PNG or TIFF, whichever stores it)
    img = Image.new(mode, (64, 48))
    fmt = "TIFF" if mode == "CMYK" else "PNG"
    # When it is prepared
    prepared = prepare_image(_encode(img, fmt), 32)
    # Then the detector gets an RGB JPEG of the right size
    sent = _sent(prepared.payload)
    assert sent.mode == "RGB"
    assert sent.size == (32, 24)


def test_sixteen_bit_greyscale_is_scaled_not_clipped_to_white() -> None:
    # Given a 16-bit greyscale image at half of its range
    img = Image.new("I;16", (32, 32), 32768)
    # When it is prepared
    sent = _sent(prepare_image(_encode(img, "PNG"), 32).payload)
    # Then it is mid-grey, not saturated
    r, g, b = sent.getpixel((16, 16))  # type: ignore[misc]
    assert 110 <= r <= 145 and r == g == b


def test_transparent_pixels_become_white_not_black() -> None:
    # Given a fully transparent RGBA image
    img = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    # When it is prepared
    sent = _sent(prepare_image(_encode(img, "PNG"), 20).payload)
    # Then the background is white
    assert min(sent.getpixel((10, 10))) >= 250  # type: ignore[arg-type]


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge size and holds almost no data: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty file"),
        (b"definitely not an image", "not a readable image"),
        (_png_header_only(100_000, 100_000), "image too large"),
        (_png_header_only(8_000, 8_000), "image too large: 8000x8000 pixels"),
        (_encode(Image.new("RGB", (64, 64)), "JPEG")[:200], "corrupt or truncated"),
    ],
)
def test_bad_files_are_rejected_with_a_reason(data: bytes, words: str) -> None:
    # Given a file that is not a usable image; When it is prepared
    with pytest.raises(ImageRejected) as err:
        prepare_image(data, 416)
    # Then the reason names what is wrong (it becomes the task's FAILED reason)
    assert words in str(err.value)


def test_large_jpeg_is_reduced_in_the_decoder() -> None:
    # Given a 4000x3000 JPEG
    data = _encode(Image.new("RGB", (4000, 3000), (10, 120, 200)), "JPEG", quality=80)
    # When it is prepared for 416
    prepared = prepare_image(data, 416)
    # Then it fits 416 with its aspect ratio and the original size is reported
    assert (prepared.width, prepared.height) == (4000, 3000)
    assert (prepared.sent_width, prepared.sent_height) == (416, 312)


def _reference(data: bytes, target: int) -> tuple[tuple[int, int], Image.Image]:
    """The image as people see it, shrunk as before tiles: orient and convert at full size,
    then a thumbnail of the decoded (JPEG: draft-reduced) image; and its oriented size."""
    img = Image.open(io.BytesIO(data))
    if img.format == "JPEG":
        img.draft("RGB", (target, target))
    img.load()
    oriented = ImageOps.exif_transpose(img)
    full = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).size
    rgb = to_rgb(oriented)
    rgb.thumbnail((target, target), Image.Resampling.BILINEAR, reducing_gap=None)
    return full, rgb


def _content(mode: str, size: tuple[int, int]) -> Image.Image:
    grey = Image.linear_gradient("L").resize(size)
    ring = Image.radial_gradient("L").resize(size)
    ImageDraw.Draw(ring).rectangle((0, 0, size[0] // 3, size[1] // 5), fill=30)
    rgba = Image.merge("RGBA", [grey, ring, grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT), ring])
    if mode == "I;16":
        return grey.convert("I").point(lambda v: v * 257).convert("I;16")
    if mode == "P":
        pal = rgba.convert("RGB").quantize(32)
        pal.info["transparency"] = 0
        return pal
    return rgba.convert(mode)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(
    ("mode", "fmt", "size"),
    [
        ("RGB", "JPEG", (1600, 900)),
        ("RGB", "JPEG", (333, 1000)),
        ("L", "JPEG", (1000, 999)),
        ("CMYK", "JPEG", (900, 700)),
        ("RGBA", "PNG", (1234, 567)),
        ("LA", "PNG", (640, 480)),
        ("P", "PNG", (517, 1100)),
        ("I;16", "PNG", (800, 600)),
        ("RGBA", "TIFF", (700, 500)),  # Pillow turns TIFFs itself when it loads them
        ("RGB", "PNG", (90, 60)),
    ],
)
def test_frugal_path_gives_the_sizes_scale_and_orientation_of_before(
    mode: str, fmt: str, size: tuple[int, int], orientation: int
) -> None:
    # Given an image in some mode and format, stored with an EXIF orientation
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _encode(_content(mode, size), fmt, exif=exif.tobytes())
    # When it is prepared for a 416 detector input
    prepared = prepare_image(data, 416)
    # Then the original size, the sent size and the scale are those of the reference (orient
    # and convert at full size, then a thumbnail), and the pixels look the same
    (width, height), before = _reference(data, 416)
    assert (prepared.width, prepared.height) == (width, height)
    sent = _sent(prepared.payload)
    assert sent.size == (prepared.sent_width, prepared.sent_height) == before.size
    assert prepared.scale == (width / before.size[0], height / before.size[1])
    diff = ImageChops.difference(sent, before).convert("L")
    assert ImageStat.Stat(diff).mean[0] < 3.0
