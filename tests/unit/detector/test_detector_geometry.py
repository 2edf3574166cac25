"""Placing an image on the network input (three resize modes) and mapping boxes back."""

from __future__ import annotations

import numpy as np
import pytest

from prelabel_detector.descriptor import Normalisation
from prelabel_detector.geometry import place, prepare


def white_rectangle(width: int, height: int, box: tuple[int, int, int, int]) -> np.ndarray:
    image = np.zeros((height, width, 3), dtype=np.uint8)
    x1, y1, x2, y2 = box
    image[y1:y2, x1:x2] = 255
    return image


def bright_box(channel: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(channel > 200)
    return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], dtype=np.float32)


@pytest.mark.parametrize("resize", ["letterbox-top-left", "letterbox-center", "stretch"])
@pytest.mark.parametrize(("width", "height"), [(900, 480), (300, 700), (64, 64)])
def test_a_box_found_on_the_input_maps_back_onto_the_image(
    resize: str, width: int, height: int
) -> None:
    # Given an image with a white rectangle at a known place, and a 320x256 input
    truth = (width // 4, height // 5, width * 3 // 4, height * 4 // 5)
    image = white_rectangle(width, height, truth)
    norm = Normalisation(resize=resize, pad=0)
    # When it is prepared as the network sees it and the rectangle is found there
    batch, (geometry,) = prepare([image], (320, 256), norm)
    found = geometry.to_original(bright_box(batch[0, 0])[None])[0]
    # Then mapped back it lies on the drawn rectangle, within one input pixel
    tolerance = 1.0 / min(geometry.scale_x, geometry.scale_y) + 0.5
    np.testing.assert_allclose(found, truth, atol=tolerance)


def test_letterboxes_pad_where_their_family_does() -> None:
    # Given a wide image on a square input
    # When it is placed top-left (YOLOX) and centred (ultralytics)
    top_left = place((800, 400), (640, 640), "letterbox-top-left")
    centred = place((800, 400), (640, 640), "letterbox-center")
    stretched = place((800, 400), (640, 640), "stretch")
    # Then both scale by 0.8; the centred one leaves 160 rows above (the 320-row band's half)
    assert (top_left.scale_x, top_left.pad_x, top_left.pad_y) == (0.8, 0.0, 0.0)
    assert (centred.scale_y, centred.pad_x, centred.pad_y) == (0.8, 0.0, 160.0)
    assert (stretched.scale_x, stretched.scale_y) == (0.8, 1.6)


def test_normalisation_applies_per_channel_in_the_network_order() -> None:
    # Given a BGR image of one colour and an RGB network with ImageNet mean and std
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    image[:] = (10, 20, 30)  # B, G, R
    norm = Normalisation(
        mean=(123.675, 116.28, 103.53),
        scale=(1 / 58.395, 1 / 57.12, 1 / 57.375),
        channels="RGB",
        resize="stretch",
    )
    # When the image is prepared
    batch, _ = prepare([image], (8, 8), norm)
    # Then channel 0 is red, normalised by red's mean and std, and so on
    expected = [(30 - 123.675) / 58.395, (20 - 116.28) / 57.12, (10 - 103.53) / 57.375]
    np.testing.assert_allclose(batch[0, :, 4, 4], expected, rtol=1e-5)
