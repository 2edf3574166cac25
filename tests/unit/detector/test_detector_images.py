"""Untrusted image bytes: decoded, or rejected with a reason."""

from __future__ import annotations

import pytest

from prelabel_detector.coco import COCO80, COCO91_TO_80
from prelabel_detector.images import ImageRejectedError, decode_image


def test_png_decodes_to_bgr_pixels_of_its_size(small_png: bytes) -> None:
    # Given a 40x30 PNG
    # When it is decoded
    pixels = decode_image(small_png)
    # Then the array is height x width x 3 bytes
    assert pixels.shape == (30, 40, 3)
    assert pixels.dtype.name == "uint8"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "0 bytes"),
        (b"hello world", "not a readable image"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "not a readable image|unsupported image format"),
    ],
)
def test_non_images_are_rejected_with_reason(data: bytes, reason: str) -> None:
    # Given bytes that are not a JPEG or PNG
    # When they are decoded
    # Then a rejection names the problem
    with pytest.raises(ImageRejectedError, match=reason):
        decode_image(data)


def test_truncated_png_is_rejected(small_png: bytes) -> None:
    # Given a PNG cut short after its header
    # When it is decoded
    # Then it is rejected instead of yielding half an image
    with pytest.raises(ImageRejectedError):
        decode_image(small_png[:60])


def test_coco91_ids_map_onto_the_80_classes() -> None:
    # Given the TF Object Detection API ids of a few classes
    # When mapped
    # Then they land on the COCO-80 names, and the gaps are not mapped
    assert COCO80[COCO91_TO_80[1]] == "person"
    assert COCO80[COCO91_TO_80[47]] == "cup"
    assert COCO80[COCO91_TO_80[90]] == "toothbrush"
    assert 12 not in COCO91_TO_80
    assert 83 not in COCO91_TO_80
