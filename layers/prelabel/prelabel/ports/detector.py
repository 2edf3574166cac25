"""The port of the object detector behind the endpoint."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from prelabel.detector_wire import ImageResult


@dataclass(frozen=True, slots=True)
class Detections:
    model_name: str
    model_version: str
    results: list[ImageResult]


class DetectorUnavailable(Exception):
    """The endpoint failed after retries: the batch leaves its tasks untouched."""


class Detector(ABC):
    @abstractmethod
    def detect(
        self, images: Sequence[bytes], *, score_floor: float, target_model: str | None = None
    ) -> Detections:
        """One result per image, in order, holding every box scored at or above `score_floor`
        (up to the detector's per-image cap); DetectorUnavailable when the endpoint keeps
        failing. `target_model` names an organization's model on the multi-model endpoint
        (its artifact's key); None asks the built-in detector."""
