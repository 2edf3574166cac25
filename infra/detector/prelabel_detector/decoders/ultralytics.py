"""Ultralytics detect exports: YOLOv5 (1 x N x (5 + C)) and YOLOv8/11 (1 x (4 + C) x N).

Both hold cx, cy, w, h in input pixels; v5 then objectness and class probabilities (score =
objectness x class), v8 and later class scores only. Which one a model is follows from its
shape and the declared class count, so a wrong count is caught instead of misread.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from prelabel_detector.decoders.base import (
    Candidates,
    Decoder,
    Dim,
    OutputInfo,
    OutputMismatchError,
    best_class,
    corners,
    fixed,
    one_output,
    shape_text,
)
from prelabel_detector.geometry import Geometry

V5 = "YOLOv5, 1 x N x (5 + classes): cx, cy, w, h, objectness, classes"
V8 = "YOLOv8/11, 1 x (4 + classes) x N: cx, cy, w, h, classes"


class UltralyticsDecoder(Decoder):
    layout = V8
    _decided = False

    def check(self, outputs: list[OutputInfo]) -> None:
        output = one_output(outputs, "ultralytics", f"{V5}; or {V8}")
        rows, cols = fixed(output.shape[1]), fixed(output.shape[2])
        count = self.num_classes
        v5 = cols == 5 + count
        v8 = rows == 4 + count
        if v5 and v8:
            raise OutputMismatchError(
                f"output {shape_text(output.shape)} reads both as YOLOv5 and as YOLOv8 with "
                f"{count} classes; export at an input size with more than {5 + count} anchors"
            )
        if v5 or v8:
            layout = V5 if v5 else V8
            if self._decided and layout != self.layout:
                raise OutputMismatchError(f"the model answered as {layout}, not as {self.layout}")
            self.layout, self._decided = layout, True
            return
        if rows is None and cols is None:
            return  # fully dynamic: the first real output decides
        raise OutputMismatchError(_misfit(output.shape, rows, cols, count))

    def decode(
        self, outputs: Sequence[npt.NDArray[np.generic]], geometries: Sequence[Geometry]
    ) -> list[Candidates]:
        self.actual(outputs)
        raw = np.asarray(outputs[0], dtype=np.float32)
        if self.layout == V8:
            raw = raw.transpose(0, 2, 1)
            class_scores = raw[..., 4:]
        else:
            class_scores = raw[..., 4:5] * raw[..., 5:]
        scores, class_ids = best_class(class_scores)
        boxes = corners(raw[..., :4])
        return [
            Candidates(geometry.to_original(boxes[i]), scores[i], class_ids[i], nms_done=False)
            for i, geometry in enumerate(geometries)
        ]


def _misfit(shape: tuple[Dim, ...], rows: int | None, cols: int | None, count: int) -> str:
    text = shape_text(shape)
    # The smaller side is the per-anchor vector: that tells which layout the export meant.
    if rows is not None and (cols is None or rows < cols) and rows > 4:
        return f"output {text} fits {rows - 4} classes (YOLOv8 layout), the model declares {count}"
    if cols is not None and cols > 5:
        return f"output {text} fits {cols - 5} classes (YOLOv5 layout), the model declares {count}"
    return f"output {text} fits neither {V5} nor {V8} with {count} classes"
