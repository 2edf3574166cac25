"""Decode estimates read from the header match what Pillow allocates when it decodes."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

import pytest
from PIL import Image

from prelabel.imaging.footprint import storage_bytes
from prelabel.imaging.preprocess import ImageRejected, open_image, prepare_image

MODES = ["1", "L", "P", "I;16", "LA", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "I", "F"]


@pytest.fixture
def small_blocks() -> Iterator[int]:
    """Pillow's allocator in 4 KiB blocks, so its block count measures an image's bytes."""
    before = Image.core.get_block_size()
    Image.core.set_block_size(4096)
    yield 4096
    Image.core.set_block_size(before)


@pytest.mark.parametrize("mode", MODES)
def test_storage_bytes_are_what_pillow_allocates(mode: str, small_blocks: int) -> None:
    # Given an image of 1024 x 64 pixels in some mode
    allocated = Image.core.get_stats()["allocated_blocks"]
    # When Pillow allocates it
    img = Image.new(mode, (1024, 64))
    blocks = Image.core.get_stats()["allocated_blocks"] - allocated
    # Then its allocator's blocks hold exactly the bytes the estimate counts for it
    assert blocks * small_blocks == storage_bytes(mode, img.size)


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **kw)
    return out.getvalue()


@pytest.mark.parametrize(
    ("img", "fmt", "kw"),
    [
        (Image.new("RGBA", (900, 700)), "PNG", {}),
        (Image.new("LA", (900, 700)), "PNG", {}),
        (Image.new("I;16", (900, 700)), "PNG", {}),
        (Image.new("P", (900, 700)), "PNG", {"transparency": 0}),
        (Image.new("RGB", (900, 700)), "PNG", {}),
        (Image.new("1", (900, 700)), "PNG", {}),
        (Image.new("RGB", (3000, 2000)), "JPEG", {}),  # decoded at 1/4 size
        (Image.new("L", (3000, 2000)), "JPEG", {}),
        (Image.new("CMYK", (3000, 2000)), "JPEG", {}),
        (Image.new("CMYK", (900, 700)), "TIFF", {}),
        (Image.new("P", (900, 700)), "GIF", {}),
        (Image.new("RGB", (900, 700)), "BMP", {}),
        (Image.new("RGBA", (900, 700)), "WEBP", {"lossless": True}),
    ],
)
def test_the_header_predicts_the_decoded_mode_and_size(
    img: Image.Image, fmt: str, kw: dict[str, object]
) -> None:
    # Given a file of some format and mode
    data = _encode(img, fmt, **kw)
    # When only its header is read
    opened = open_image(data, 416)
    header_bytes = storage_bytes(opened.image.mode, opened.image.size)
    # Then the image it decodes to has the mode and size the estimate was made for
    opened.image.load()
    assert storage_bytes(opened.image.mode, opened.image.size) == header_bytes
    # And the estimate covers at least that image
    assert opened.decode_bytes >= header_bytes


@pytest.mark.parametrize(("subsampling", "per_pixel"), [(2, 3.0), (0, 6.0)])
def test_a_progressive_jpeg_counts_its_full_size_coefficients(
    subsampling: int, per_pixel: float
) -> None:
    # Given the same 2000 x 1000 picture as a baseline and as a progressive JPEG
    picture = Image.linear_gradient("L").resize((2000, 1000)).convert("RGB")
    baseline = open_image(_encode(picture, "JPEG", subsampling=subsampling), 416)
    progressive = open_image(
        _encode(picture, "JPEG", subsampling=subsampling, progressive=True), 416
    )
    # When their estimates are compared
    extra = progressive.decode_bytes - baseline.decode_bytes
    # Then the progressive one holds 2 bytes per DCT coefficient of the full image although it
    # is decoded at a quarter of its size: 3 bytes a pixel at 4:2:0, 6 at 4:4:4 (libjpeg pads
    # to whole blocks)
    assert per_pixel <= extra / 2_000_000 <= per_pixel * 1.02


def test_estimates_grow_with_the_decoded_size_not_the_file_size() -> None:
    # Given a flat RGBA PNG of 3000 x 3000 (a few KB) and a JPEG of the same size
    flat = Image.new("RGBA", (3000, 3000), (10, 20, 30, 40))
    png = open_image(_encode(flat, "PNG"), 416)
    jpeg = open_image(_encode(flat.convert("RGB"), "JPEG"), 416)
    # When their estimates are read
    # Then the PNG needs its whole decoded image (36 MB), the JPEG only its 1/4-scale decode
    assert png.decode_bytes >= 3000 * 3000 * 4
    assert jpeg.decode_bytes < 3000 * 3000 * 4 // 4


def test_webp_has_a_lower_pixel_cap_and_says_why() -> None:
    # Given a WebP of 4100 x 4100 (16.8 MP: under the 50 MP cap of JPEG and PNG)
    data = _encode(Image.new("RGB", (4100, 4100), (9, 9, 9)), "WEBP", lossless=True, method=0)
    # When it is prepared
    with pytest.raises(ImageRejected) as err:
        prepare_image(data, 416)
    # Then it fails with a reason that names the format's own limit
    assert "image too large: 4100x4100 pixels (limit 16 MP for WEBP images" in str(err.value)


def test_formats_the_estimate_does_not_know_get_a_lower_cap() -> None:
    # Given a PPM header declaring 6000 x 5000 pixels (30 MP)
    data = b"P6\n6000 5000\n255\n" + b"\0" * 64
    # When it is prepared
    with pytest.raises(ImageRejected) as err:
        prepare_image(data, 416)
    # Then it is rejected on its header, naming the lower limit
    assert "image too large: 6000x5000 pixels (limit 25 MP for PPM images" in str(err.value)


def _with_exif_after_pixels(png: bytes, orientation: int) -> bytes:
    """The PNG with an eXIf chunk placed after its image data (Pillow writes it before)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    body = exif.tobytes()[6:]  # without the "Exif\0\0" prefix, as PNG stores it
    chunk = struct.pack(">I", len(body)) + b"eXIf" + body
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + body))
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + chunk + png[iend:]


@pytest.mark.parametrize("where", ["none", "before the pixels", "after the pixels"])
def test_reading_the_header_decodes_no_pixel(where: str, small_blocks: int) -> None:
    # Given a 1500 x 1000 RGBA PNG turned by EXIF orientation 6 (or not turned)
    img = Image.new("RGBA", (1500, 1000), (1, 2, 3, 4))
    exif = Image.Exif()
    exif[0x0112] = 6
    if where == "before the pixels":
        data = _encode(img, "PNG", exif=exif.tobytes())
    elif where == "after the pixels":
        data = _with_exif_after_pixels(_encode(img, "PNG"), 6)
    else:
        data = _encode(img, "PNG")
    # When only its header is read
    allocated = Image.core.get_stats()["allocated_blocks"]
    opened = open_image(data, 416)
    # Then no image memory was allocated (the decode waits for its budget)
    assert Image.core.get_stats()["allocated_blocks"] == allocated
    # And the orientation is known all the same, wherever the file stores it
    expected = (1500, 1000) if where == "none" else (1000, 1500)
    assert (opened.width, opened.height) == expected
    # And it is the orientation the prepared image has
    prepared = prepare_image(data, 416)
    assert (prepared.width, prepared.height) == expected
    assert prepared.sent_width < prepared.sent_height or where == "none"
