"""One interface for every family: raw ONNX outputs + per-image geometry -> candidate boxes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from prelabel_detector.descriptor import Descriptor
from prelabel_detector.geometry import Floats, Geometry

Ints = npt.NDArray[np.int64]
# A dimension as a model declares it: a number, or a name / None when it is dynamic.
Dim = int | str | None


class OutputMismatchError(ValueError):
    """The model's outputs do not fit its declared family or class count; says how, for people."""


@dataclass(frozen=True)
class OutputInfo:
    name: str
    shape: tuple[Dim, ...]
    dtype: str  # numpy's name: float32, int64, ...

    @property
    def label(self) -> str:
        return f"output {self.name!r} ({shape_text(self.shape)}, {self.dtype})"


@dataclass(frozen=True)
class Candidates:
    """One image's boxes before the score floor: [x1, y1, x2, y2] in the image's own pixels."""

    boxes: Floats
    scores: Floats
    class_ids: Ints
    # True when the graph ran NMS itself (boxes-scores-labels); the backend then only sorts.
    nms_done: bool
    # Boxes dropped because the model named a class outside the declared list.
    out_of_range: int = 0


class Decoder(ABC):
    """Checks a model's outputs against the declaration once, then decodes every batch."""

    # How the outputs were read, for people (validation reports it).
    layout: str = ""
    # False when the outputs have no batch axis: the backend then runs one image at a time.
    batched: bool = True

    def __init__(self, descriptor: Descriptor, outputs: Sequence[OutputInfo]) -> None:
        self.descriptor = descriptor
        self.num_classes = len(descriptor.classes)
        self.names = [o.name for o in outputs]
        self.check(list(outputs))

    @abstractmethod
    def check(self, outputs: list[OutputInfo]) -> None:
        """Raise OutputMismatchError unless the declared outputs fit; dynamic dims pass."""

    @abstractmethod
    def decode(
        self, outputs: Sequence[npt.NDArray[np.generic]], geometries: Sequence[Geometry]
    ) -> list[Candidates]:
        """Candidates per image of the batch the outputs came from."""

    def actual(self, outputs: Sequence[npt.NDArray[np.generic]]) -> None:
        """The run's real shapes must fit as the declared ones did (dynamic dims included)."""
        self.check(
            [
                OutputInfo(name, tuple(int(d) for d in array.shape), array.dtype.name)
                for name, array in zip(self.names, outputs, strict=True)
            ]
        )


def shape_text(shape: Sequence[Dim]) -> str:
    return "x".join(str(d) if isinstance(d, int) else "?" for d in shape)


def fixed(dim: Dim) -> int | None:
    return dim if isinstance(dim, int) and dim >= 0 else None


def corners(centre_size: Floats) -> Floats:
    """cx, cy, w, h -> x1, y1, x2, y2 on the last axis."""
    half = centre_size[..., 2:4] / 2
    return np.concatenate(
        [centre_size[..., :2] - half, centre_size[..., :2] + half], axis=-1
    ).astype(np.float32)


def best_class(class_scores: Floats) -> tuple[Floats, Ints]:
    ids = class_scores.argmax(axis=-1)
    scores = np.take_along_axis(class_scores, ids[..., None], axis=-1)[..., 0]
    return scores.astype(np.float32), ids.astype(np.int64)


def one_output(outputs: list[OutputInfo], family: str, layout: str) -> OutputInfo:
    if len(outputs) != 1:
        names = ", ".join(o.label for o in outputs) or "none"
        raise OutputMismatchError(
            f"a {family} model has one output ({layout}); this one has {len(outputs)}: {names}"
        )
    output = outputs[0]
    if len(output.shape) != 3:
        raise OutputMismatchError(f"{output.label} is not {layout}")
    if not output.dtype.startswith("float"):
        raise OutputMismatchError(f"{output.label} must hold floats")
    batch = fixed(output.shape[0])
    if batch is not None and batch < 1:
        raise OutputMismatchError(f"{output.label} has an empty batch axis")
    return output
