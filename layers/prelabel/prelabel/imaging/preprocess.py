"""Untrusted image bytes -> what the detector is sent, and how to map its boxes back.

Decoding is bounded before any pixel is read (header size check), JPEG decoding is reduced in
the decoder itself (draft mode), other formats are converted to RGB tile by tile while they
shrink (no full-size converted copy), and EXIF orientation is applied to the small result so
boxes land on the image as people see it. `open_image` reads only the header and says how many
bytes decoding will take, so a batch can budget its decodes (`prelabel.imaging.budget`).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from prelabel.imaging.footprint import JPEG_FORMATS, decode_bytes
from prelabel.imaging.shrink import fit, shrink_to_rgb

MAX_PIXELS = 50_000_000
MAX_BYTES = 50 * 1024 * 1024
# Formats Pillow cannot decode at a reduced size and whose decoders hold several copies of the
# image get a lower pixel cap, so one image alone stays well inside the worker's memory:
# libwebp needs about 16 bytes a pixel; formats not listed here are assumed to need 8.
_FULL_CAP_FORMATS = JPEG_FORMATS | {"PNG", "TIFF", "BMP", "GIF"}
_FORMAT_MAX_PIXELS = {"WEBP": 16_000_000}
_OTHER_MAX_PIXELS = 25_000_000
# Pillow turns TIFFs by their orientation tag itself when it loads them.
_ORIENTS_ITSELF = {"TIFF"}
# EXIF orientations that swap width and height (rotations by 90 or 270 degrees).
_SWAPS_AXES = {5, 6, 7, 8}
_EXIF_ORIENTATION = 0x0112
_TURN = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


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


@dataclass(frozen=True, slots=True)
class OpenedImage:
    """A file whose header passed the checks; no pixel is decoded yet.

    `width` x `height` is the original as people see it (EXIF orientation applied), `sent` the
    size the detector gets, `decode_bytes` the peak bytes decoding and shrinking will allocate
    besides the file's own bytes.
    """

    image: Image.Image
    width: int
    height: int
    orientation: int
    sent: tuple[int, int]
    decode_bytes: int


@contextmanager
def _reasons() -> Iterator[None]:
    """Pillow's and the decoders' errors as the FAILED reasons people read."""
    try:
        yield
    except ImageRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"image too large ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(f"not a readable image ({type(exc).__name__})") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageRejected(f"corrupt or truncated image ({type(exc).__name__}: {exc})") from exc


def _check_pixels(fmt: str | None, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageRejected(f"image has no pixels ({width}x{height})")
    if fmt in _FULL_CAP_FORMATS:
        if width * height > MAX_PIXELS:
            raise ImageRejected(
                f"image too large: {width}x{height} pixels (limit {MAX_PIXELS // 1_000_000} MP)"
            )
        return
    cap = _FORMAT_MAX_PIXELS.get(fmt or "", _OTHER_MAX_PIXELS)
    if width * height > cap:
        raise ImageRejected(
            f"image too large: {width}x{height} pixels (limit {cap // 1_000_000} MP for"
            f" {fmt} images, which cannot be decoded at a reduced size)"
        )


def _png_exif_after_pixels(data: bytes) -> bytes | None:
    """An eXIf chunk stored after the image data, found by walking the chunks' headers."""
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        if kind == b"eXIf":
            return data[pos + 8 : pos + 8 + length]
        if kind == b"IEND":
            break
        pos += 12 + length
    return None


def _orientation(img: Image.Image, data: bytes) -> int:
    """The EXIF orientation, without decoding: Pillow's PNG `getexif` decodes the whole image
    to look for an eXIf chunk after the pixels, before the batch has budgeted that decode."""
    if img.format == "PNG" and "exif" not in img.info:
        late = _png_exif_after_pixels(data)
        if late is not None:
            img.info["exif"] = b"Exif\x00\x00" + late
        exif = Image.Image.getexif(img)
    else:
        exif = img.getexif()
    orientation = exif.get(_EXIF_ORIENTATION, 1)
    return orientation if isinstance(orientation, int) else 1


def open_image(data: bytes, target: int) -> OpenedImage:
    """Read and check the header, set up reduced JPEG decoding, estimate the decode's bytes."""
    if not data:
        raise ImageRejected("empty file")
    if len(data) > MAX_BYTES:
        raise ImageRejected(f"file too large: {len(data)} bytes (limit {MAX_BYTES})")
    with _reasons():
        img = Image.open(io.BytesIO(data))
        raw_w, raw_h = img.size
        _check_pixels(img.format, raw_w, raw_h)
        orientation = _orientation(img, data)
        if img.format in _ORIENTS_ITSELF:
            orientation = 1  # its size is already the oriented one
        swaps = orientation in _SWAPS_AXES
        if img.format in JPEG_FORMATS:
            img.draft("RGB", (target, target))
        # The detector's size is fitted on the decoded image as people see it, as a thumbnail of
        # the oriented image would be; the shrink works in the file's orientation.
        dec_w, dec_h = img.size
        sent = fit((dec_h, dec_w) if swaps else (dec_w, dec_h), target)
        final = (sent[1], sent[0]) if swaps else sent
        estimate = decode_bytes(img, (raw_w, raw_h), final, len(data))
    width, height = (raw_h, raw_w) if swaps else (raw_w, raw_h)
    return OpenedImage(img, width, height, orientation, sent, estimate)


def finish(opened: OpenedImage, quality: int = 90) -> PreparedImage:
    """Decode, shrink to RGB at the detector's size, orient, and encode as JPEG."""
    img = opened.image
    swaps = opened.orientation in _SWAPS_AXES
    final = (opened.sent[1], opened.sent[0]) if swaps else opened.sent
    with _reasons():
        try:
            img.load()
            small = shrink_to_rgb(img, final)
            if small is not img:
                img.close()  # the decoded image goes now, before the encode allocates
            turn = _TURN.get(opened.orientation)
            if turn is not None:
                small = small.transpose(turn)
            out = io.BytesIO()
            small.save(out, "JPEG", quality=quality)
        finally:
            img.close()  # the file's bytes and pixels go with it, even on a failed decode
    return PreparedImage(out.getvalue(), opened.width, opened.height, *small.size)


def prepare_image(data: bytes, target: int, quality: int = 90) -> PreparedImage:
    """Decode (bounded), orient, convert to RGB, shrink to fit `target`, re-encode as JPEG."""
    return finish(open_image(data, target), quality)
