"""Image -> network input (resize, pad, channel order, normalisation), and back for boxes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from prelabel_detector.descriptor import Normalisation
from prelabel_detector.images import Pixels

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Geometry:
    """Where an image landed on the network input: input pixel = original * scale + pad."""

    width: int
    height: int
    scale_x: float
    scale_y: float
    pad_x: float = 0.0
    pad_y: float = 0.0

    def to_original(self, boxes: Floats) -> Floats:
        """[x1, y1, x2, y2] rows in input pixels -> the same boxes in the image's pixels."""
        offset = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], dtype=np.float32)
        scale = np.array([self.scale_x, self.scale_y, self.scale_x, self.scale_y], np.float32)
        return ((boxes - offset) / scale).astype(np.float32)


def place(image_size: tuple[int, int], input_size: tuple[int, int], resize: str) -> Geometry:
    """The geometry of one image (width, height) on an input of `input_size`."""
    width, height = image_size
    input_w, input_h = input_size
    if resize == "stretch":
        return Geometry(width, height, input_w / width, input_h / height)
    ratio = min(input_w / width, input_h / height)
    if resize == "letterbox-top-left":
        # YOLOX: truncated size, image in the top-left corner, boxes divided by the ratio.
        return Geometry(width, height, ratio, ratio)
    # Ultralytics' LetterBox: rounded size, centred, the odd pixel of padding after the image.
    new_w, new_h = round(width * ratio), round(height * ratio)
    left = round((input_w - new_w) / 2 - 0.1)
    top = round((input_h - new_h) / 2 - 0.1)
    return Geometry(width, height, ratio, ratio, float(left), float(top))


def resized_size(geometry: Geometry, resize: str) -> tuple[int, int]:
    if resize == "letterbox-top-left":
        return (
            max(1, int(geometry.width * geometry.scale_x)),
            max(1, int(geometry.height * geometry.scale_y)),
        )
    return (
        max(1, round(geometry.width * geometry.scale_x)),
        max(1, round(geometry.height * geometry.scale_y)),
    )


def prepare(
    images: Sequence[Pixels], input_size: tuple[int, int], norm: Normalisation
) -> tuple[Floats, list[Geometry]]:
    """BGR images -> one float32 NCHW batch as the network expects it, and each one's geometry."""
    input_w, input_h = input_size
    batch = np.empty((len(images), 3, input_h, input_w), dtype=np.float32)
    geometries = []
    for index, image in enumerate(images):
        height, width = image.shape[:2]
        geometry = place((width, height), input_size, norm.resize)
        new_w, new_h = resized_size(geometry, norm.resize)
        canvas = np.full((input_h, input_w, 3), norm.pad, dtype=np.uint8)
        left, top = int(geometry.pad_x), int(geometry.pad_y)
        canvas[top : top + new_h, left : left + new_w] = cv2.resize(
            image, (new_w, new_h), interpolation=cv2.INTER_LINEAR
        )
        if norm.channels == "RGB":
            canvas = canvas[..., ::-1]
        batch[index] = canvas.transpose(2, 0, 1)
        geometries.append(geometry)
    if not norm.identity:
        mean = np.asarray(norm.mean, dtype=np.float32)[None, :, None, None]
        scale = np.asarray(norm.scale, dtype=np.float32)[None, :, None, None]
        batch = (batch - mean) * scale
    return batch, geometries
