"""Family decoders of the ONNX backend, one per output layout, behind one interface."""

from __future__ import annotations

from collections.abc import Sequence

from prelabel_detector.decoders.base import (
    Candidates,
    Decoder,
    OutputInfo,
    OutputMismatchError,
)
from prelabel_detector.descriptor import Descriptor, DescriptorError

__all__ = ["Candidates", "Decoder", "OutputInfo", "OutputMismatchError", "decoder_for"]


def decoder_for(descriptor: Descriptor, outputs: Sequence[OutputInfo]) -> Decoder:
    """The family's decoder, checked against the model's declared outputs."""
    name = descriptor.decoder
    if name == "yolox":
        from prelabel_detector.decoders.yolox import YoloxDecoder

        return YoloxDecoder(descriptor, outputs)
    if name == "ultralytics":
        from prelabel_detector.decoders.ultralytics import UltralyticsDecoder

        return UltralyticsDecoder(descriptor, outputs)
    if name == "boxes-scores-labels":
        from prelabel_detector.decoders.boxes_scores_labels import BoxesScoresLabelsDecoder

        return BoxesScoresLabelsDecoder(descriptor, outputs)
    raise DescriptorError(f"family {descriptor.family!r} is not read by the ONNX backend")
