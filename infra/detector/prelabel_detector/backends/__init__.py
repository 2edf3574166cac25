"""Detector backends, one per model family named in the descriptor."""

from __future__ import annotations

from prelabel_detector.backends.base import Backend
from prelabel_detector.descriptor import Descriptor, DescriptorError

__all__ = ["Backend", "load_backend"]


def load_backend(
    descriptor: Descriptor, threads: int | None = None, device: str | None = None
) -> Backend:
    """The descriptor's backend; `device` only matters to backends that can choose one."""
    missing = descriptor.missing_weights()
    if missing:
        raise DescriptorError(f"weights not found: {', '.join(map(str, missing))}")
    if descriptor.family == "ssd-tf":
        from prelabel_detector.backends.ssd_tf import SsdTfBackend

        return SsdTfBackend(descriptor, threads)
    if descriptor.family == "yolox-torch":
        from prelabel_detector.backends.yolox_torch import YoloxTorchBackend

        return YoloxTorchBackend(descriptor, threads, device)
    from prelabel_detector.backends.onnx_runtime import OnnxBackend

    return OnnxBackend(descriptor, threads)
