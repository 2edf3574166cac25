"""Turning untrusted bytes into BGR pixel arrays, or into a reason why not."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

Pixels = npt.NDArray[np.uint8]

ACCEPTED_FORMATS = ("JPEG", "PNG")
# Far above what the worker sends (it downscales first) but small enough that one decompression
# bomb cannot take the container's memory.
MAX_PIXELS = 50_000_000


class ImageRejectedError(ValueError):
    pass


@dataclass(frozen=True)
class ImageHeader:
    width: int
    height: int
    format: str


def check_header(data: bytes) -> ImageHeader:
    """What the header says, once it passed the limits; no pixel is decoded yet."""
    if not data:
        raise ImageRejectedError("empty image (0 bytes)")
    width, height, fmt = _header(data)
    if fmt not in ACCEPTED_FORMATS:
        raise ImageRejectedError(f"unsupported image format {fmt}; send JPEG or PNG")
    if width <= 0 or height <= 0:
        raise ImageRejectedError(f"zero-size image ({width}x{height})")
    if width * height > MAX_PIXELS:
        raise ImageRejectedError(f"image is {width}x{height}, more than {MAX_PIXELS} pixels")
    return ImageHeader(width, height, fmt)


def decode_image(data: bytes, header: ImageHeader | None = None) -> Pixels:
    """Decode one JPEG/PNG as sent (EXIF orientation ignored: boxes match the stored raster)."""
    header = header or check_header(data)
    width, height, fmt = header.width, header.height, header.format
    buffer = np.frombuffer(data, dtype=np.uint8)
    pixels = cv2.imdecode(buffer, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if pixels is None or pixels.size == 0:
        raise ImageRejectedError(f"corrupt {fmt} data: the decoder could not read the pixels")
    if pixels.shape[:2] != (height, width):
        raise ImageRejectedError("corrupt image: decoded size differs from the header")
    return np.ascontiguousarray(pixels, dtype=np.uint8)


def _header(data: bytes) -> tuple[int, int, str]:
    # Pillow reads only the header here, so size limits apply before any pixel is decoded.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.width, image.height, str(image.format)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageRejectedError(f"image has too many pixels: {exc}") from exc
    except Exception as exc:  # Pillow raises many types for hostile input; all mean "not an image".
        raise ImageRejectedError(f"not a readable image: {type(exc).__name__}") from exc
