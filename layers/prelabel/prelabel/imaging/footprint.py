"""How many bytes preparing an image takes, read from its header before any pixel is decoded.

Figures are what Pillow and its decoders allocate (checked with benchmarks/worker.py's hostile
set): the decoded image at Pillow's storage size (after JPEG draft reduction), whatever the
decoder holds besides it, and the tiles and small images of `shrink_to_rgb`.
"""

from __future__ import annotations

import math

from PIL import Image

from prelabel.imaging.shrink import working_bytes

# Bytes per pixel as Pillow stores each mode: every multi-band 8-bit mode (RGB included) takes
# four bytes a pixel, 16-bit greyscale two, 1-bit and 8-bit single bands one.
_ONE_BYTE = {"1", "L", "P"}
_TWO_BYTES = {"I;16", "I;16L", "I;16B", "I;16N", "BGR;15", "BGR;16"}
JPEG_FORMATS = {"JPEG", "MPO"}
# libwebp decodes the whole canvas into two buffers of its own and hands Pillow a copy, which
# Pillow then unpacks into the image: 12 bytes a pixel besides the image itself.
_WEBP_EXTRA_PER_PIXEL = 12
# Formats whose decoders hold little besides the image (a few rows, a zlib or LZW state).
_STREAMED = {"PNG", "BMP", "GIF", "TIFF"}
_ROW_BUFFERS = 64
_EXIF_ORIENTATION = 0x0112
_TURNED = {2, 3, 4, 5, 6, 7, 8}


def storage_bytes(mode: str, size: tuple[int, int]) -> int:
    """Bytes Pillow allocates for an image of `mode` and `size`."""
    if mode in _ONE_BYTE:
        per_pixel = 1
    elif mode in _TWO_BYTES:
        per_pixel = 2
    else:
        per_pixel = 4
    return size[0] * size[1] * per_pixel


def decoder_bytes(img: Image.Image, full_size: tuple[int, int], file_bytes: int) -> int:
    """What the decoder holds besides the decoded image (Pillow's image itself excluded)."""
    decoded = storage_bytes(img.mode, img.size)
    rows = img.size[0] * _ROW_BUFFERS * 8
    animated = decoded if getattr(img, "n_frames", 1) > 1 else 0
    if img.format in JPEG_FORMATS:
        return _jpeg_coefficients(img, full_size) + rows
    if img.format == "WEBP":
        return full_size[0] * full_size[1] * _WEBP_EXTRA_PER_PIXEL + animated
    if img.format == "TIFF":
        # libtiff reads from a copy of the file's bytes, and Pillow turns an oriented TIFF into
        # a second full-size image when it loads it.
        turned = decoded if img.getexif().get(_EXIF_ORIENTATION, 1) in _TURNED else 0
        return file_bytes + rows + animated + turned
    if img.format in _STREAMED:
        return rows + animated
    # Unknown decoders: assume one more copy of the image.
    return decoded + rows


def _jpeg_coefficients(img: Image.Image, full_size: tuple[int, int]) -> int:
    """A progressive JPEG's whole-image DCT coefficient buffer (2 bytes per coefficient).

    libjpeg keeps every coefficient of a progressive file until the last scan, at full
    resolution whatever the draft scale: about 3 bytes a pixel for 4:2:0, 6 for 4:4:4.
    A baseline JPEG is decoded one MCU row at a time.
    """
    if not (img.info.get("progressive") or img.info.get("progression")):
        return 0
    layers: list[tuple[int, int, int, int]] = getattr(img, "layer", [])
    if not layers:
        return full_size[0] * full_size[1] * 2 * len(img.getbands())
    h_max = max(h for _, h, _, _ in layers) or 1
    v_max = max(v for _, _, v, _ in layers) or 1
    mcu_cols = math.ceil(full_size[0] / (8 * h_max))
    mcu_rows = math.ceil(full_size[1] / (8 * v_max))
    blocks = sum(mcu_cols * h * mcu_rows * v for _, h, v, _ in layers)
    return blocks * 64 * 2


def decode_bytes(
    img: Image.Image, full_size: tuple[int, int], final: tuple[int, int], file_bytes: int
) -> int:
    """Peak bytes decoding `img` (opened, draft applied) and shrinking it to `final` take.

    `final` is the size the shrink produces in the file's own orientation; the file's bytes
    are not included (the caller holds them already).
    """
    return (
        storage_bytes(img.mode, img.size)
        + decoder_bytes(img, full_size, file_bytes)
        + working_bytes(img.size, img.mode, final)
    )
