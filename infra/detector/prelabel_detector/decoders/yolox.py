"""YOLOX exports: raw grid predictions, batch x anchors x (5 + classes), decoded here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from prelabel_detector.decoders.base import (
    Candidates,
    Decoder,
    OutputInfo,
    OutputMismatchError,
    best_class,
    fixed,
    one_output,
    shape_text,
)
from prelabel_detector.geometry import Floats, Geometry

STRIDES = (8, 16, 32)


class YoloxDecoder(Decoder):
    layout = "YOLOX raw grid, batch x anchors x (5 + classes)"

    def check(self, outputs: list[OutputInfo]) -> None:
        output = one_output(outputs, "yolox", self.layout)
        self._grid, self._strides = grid(*self.descriptor.input_size)
        anchors, width = fixed(output.shape[1]), fixed(output.shape[2])
        if width is not None and width != 5 + self.num_classes:
            fits = f"fits {width - 5} classes" if width > 5 else "fits no class count"
            raise OutputMismatchError(
                f"output {shape_text(output.shape)} {fits}, the model declares {self.num_classes}"
            )
        if anchors is not None and anchors != len(self._grid):
            input_w, input_h = self.descriptor.input_size
            raise OutputMismatchError(
                f"output {shape_text(output.shape)} has {anchors} anchors; a YOLOX model at "
                f"{input_w}x{input_h} has {len(self._grid)} (strides 8, 16, 32)"
            )

    def decode(
        self, outputs: Sequence[npt.NDArray[np.generic]], geometries: Sequence[Geometry]
    ) -> list[Candidates]:
        self.actual(outputs)
        raw = np.asarray(outputs[0], dtype=np.float32)
        xy = (raw[..., :2] + self._grid) * self._strides
        half = np.exp(raw[..., 2:4]) * self._strides / 2
        boxes = np.concatenate([xy - half, xy + half], axis=-1)
        scores, class_ids = best_class(raw[..., 4:5] * raw[..., 5:])
        return [
            Candidates(geometry.to_original(boxes[i]), scores[i], class_ids[i], nms_done=False)
            for i, geometry in enumerate(geometries)
        ]


def grid(input_w: int, input_h: int) -> tuple[Floats, Floats]:
    """Each anchor's cell (x, y) and stride, in the order the export lists anchors."""
    cells, strides = [], []
    for stride in STRIDES:
        rows, cols = input_h // stride, input_w // stride
        ys, xs = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        cells.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        strides.append(np.full((rows * cols, 1), stride))
    return (
        np.concatenate(cells).astype(np.float32),
        np.concatenate(strides).astype(np.float32),
    )
