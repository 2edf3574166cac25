"""Graphs with NMS inside: boxes [x1, y1, x2, y2] in input pixels, scores and class indices.

Accepted output layouts (K = boxes kept by the graph's NMS; a leading batch axis is optional,
and without it the model runs one image at a time):

- three outputs, boxes K x 4, scores K, labels K, in any order: found by name (`box`,
  `score`/`conf`, `label`/`class`), else by shape and type (the K x 4 one holds boxes, the
  integer one labels); torchvision and RT-DETR style exports;
- two outputs, dets K x 5 (x1, y1, x2, y2, score) and labels K: mmdeploy style;
- one output K x 6: x1, y1, x2, y2, score, label (ultralytics `nms=True` exports).

Labels index the declared classes (float labels are rounded); rows with another label are
dropped and counted. Padding rows (score 0 or below) fall under any score floor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from prelabel_detector.decoders.base import (
    Candidates,
    Decoder,
    OutputInfo,
    OutputMismatchError,
    fixed,
)
from prelabel_detector.geometry import Geometry

THREE = "three outputs: boxes K x 4, scores K, labels K"
TWO = "two outputs: dets K x 5 (boxes, score), labels K"
ONE = "one output K x 6: x1, y1, x2, y2, score, label"
LAYOUTS = f"{THREE}; {TWO}; or {ONE} (each with an optional batch axis first)"
ROLE_WORDS = {"boxes": ("box",), "scores": ("score", "conf"), "labels": ("label", "class")}


class BoxesScoresLabelsDecoder(Decoder):
    _order: tuple[int, ...] = ()

    def check(self, outputs: list[OutputInfo]) -> None:
        # Positions of (boxes, scores, labels) among the outputs, and their columns.
        if len(outputs) == 3:
            self.layout = THREE
            roles = _roles(outputs)
            self._order = (roles["boxes"], roles["scores"], roles["labels"])
            boxes, labels = outputs[roles["boxes"]], outputs[roles["labels"]]
            _rows(boxes, 4)
            _rows(outputs[roles["scores"]], None, rank=len(boxes.shape) - 1)
            _rows(labels, None, rank=len(boxes.shape) - 1)
        elif len(outputs) == 2:
            self.layout = TWO
            dets = 0 if len(outputs[0].shape) > len(outputs[1].shape) else 1
            self._order = (dets, 1 - dets)
            boxes = outputs[dets]
            _rows(boxes, 5)
            _rows(outputs[1 - dets], None, rank=len(boxes.shape) - 1)
        elif len(outputs) == 1:
            self.layout = ONE
            self._order = (0,)
            boxes = outputs[0]
            _rows(boxes, 6)
        else:
            raise OutputMismatchError(
                f"a boxes-scores-labels model has {LAYOUTS}; this one has {len(outputs)} outputs"
            )
        self.batched = len(boxes.shape) == 3

    def decode(
        self, outputs: Sequence[npt.NDArray[np.generic]], geometries: Sequence[Geometry]
    ) -> list[Candidates]:
        self.actual(outputs)
        if not self.batched and len(geometries) != 1:
            raise ValueError("a model without a batch axis runs one image at a time")
        picked = [np.asarray(outputs[i]) for i in self._order]
        if not self.batched:
            picked = [array[None] for array in picked]
        if self.layout == THREE:
            boxes, scores, labels = picked
        elif self.layout == TWO:
            boxes, scores, labels = picked[0][..., :4], picked[0][..., 4], picked[1]
        else:
            boxes, scores, labels = picked[0][..., :4], picked[0][..., 4], picked[0][..., 5]
        return [
            self._candidates(boxes[i], scores[i], labels[i], geometry)
            for i, geometry in enumerate(geometries)
        ]

    def _candidates(
        self,
        boxes: npt.NDArray[np.generic],
        scores: npt.NDArray[np.generic],
        labels: npt.NDArray[np.generic],
        geometry: Geometry,
    ) -> Candidates:
        ids = np.rint(labels.astype(np.float64)).astype(np.int64)
        known = (ids >= 0) & (ids < self.num_classes)
        return Candidates(
            geometry.to_original(boxes[known].astype(np.float32)),
            scores[known].astype(np.float32),
            ids[known],
            nms_done=True,
            out_of_range=int((~known).sum()),
        )


def _roles(outputs: list[OutputInfo]) -> dict[str, int]:
    by_name = {
        role: [i for i, o in enumerate(outputs) if any(w in o.name.lower() for w in words)]
        for role, words in ROLE_WORDS.items()
    }
    if all(len(found) == 1 for found in by_name.values()):
        roles = {role: found[0] for role, found in by_name.items()}
        if len(set(roles.values())) == 3:
            return roles
    quads = [i for i, o in enumerate(outputs) if len(o.shape) >= 2 and fixed(o.shape[-1]) == 4]
    integers = [i for i, o in enumerate(outputs) if o.dtype.startswith(("int", "uint"))]
    if len(quads) == 1 and len(integers) == 1 and quads != integers:
        (boxes,), (labels,) = quads, integers
        return {"boxes": boxes, "labels": labels, "scores": 3 - boxes - labels}
    names = ", ".join(o.label for o in outputs)
    raise OutputMismatchError(
        f"cannot tell boxes, scores and labels apart among {names}: name the outputs "
        "boxes, scores and labels, or give labels an integer type"
    )


def _rows(output: OutputInfo, columns: int | None, rank: int | None = None) -> None:
    """K x columns (or K when columns is None), with an optional batch axis first."""
    shape = output.shape
    expected: tuple[int, ...] = (2, 3) if columns is not None else (1, 2)
    if rank is not None:
        expected = (rank,)
    if len(shape) not in expected:
        want = f"K x {columns}" if columns is not None else "K"
        raise OutputMismatchError(f"{output.label} should be {want} (batch axis optional)")
    if columns is not None and fixed(shape[-1]) not in (None, columns):
        raise OutputMismatchError(f"{output.label} should have {columns} values per box")
    if not output.dtype.startswith(("float", "int", "uint")):
        raise OutputMismatchError(f"{output.label} must hold numbers")
