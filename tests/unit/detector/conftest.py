"""Fixtures for the detector's offline unit tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small_png() -> bytes:
    # A real, decodable image with a known, non-square size. (Imported here: the unit tier's
    # conftest skips this folder where OpenCV is not installed, so nothing else may need it.)
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".png", np.full((30, 40, 3), 200, dtype=np.uint8))
    assert ok
    return bytes(data.tobytes())
