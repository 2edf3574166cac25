"""The checks of an uploaded model file; run by validation.py inside its limited child process.

In order, each failure a reason for people: size, ONNX parse without external data, operator
domains, external data and declared tensor sizes, the one image input, the outputs against the
family and class count, an ONNX Runtime session, then one probe image through the decoder.
"""

from __future__ import annotations

import hashlib
import resource
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from prelabel.detector_wire import Options
from prelabel_detector.backends.base import to_detections
from prelabel_detector.decoders import OutputMismatchError, decoder_for
from prelabel_detector.decoders.base import OutputInfo
from prelabel_detector.descriptor import Descriptor, DescriptorError
from prelabel_detector.images import Pixels
from prelabel_detector.onnx_checks import (
    InputMismatchError,
    UnsafeModelError,
    check_image_input,
    inspect,
)
from prelabel_detector.validation_result import (
    READY,
    Limits,
    TensorSummary,
    ValidationResult,
    declared_descriptor,
    failed,
)

REASON_CHARS = 300


def check_model_file(path: Path, declared: Mapping[str, Any], limits: Limits) -> ValidationResult:
    result = _checked(path, declared, limits)
    return replace(result, peak_memory_bytes=peak_memory())


def _checked(path: Path, declared: Mapping[str, Any], limits: Limits) -> ValidationResult:
    try:
        size = path.stat().st_size
    except OSError as exc:
        return failed(f"the model file cannot be read: {exc.strerror}")
    if size == 0:
        return failed("the file is empty")
    if size > limits.max_file_mb << 20:
        return failed(f"the file is {size >> 20} MB; the limit is {limits.max_file_mb} MB")
    data = path.read_bytes()
    found: dict[str, Any] = {"sha256": hashlib.sha256(data).hexdigest(), "size_bytes": size}
    try:
        descriptor = declared_descriptor(path, declared)
        found.update(_static(path, descriptor, limits))
    except (DescriptorError, UnsafeModelError, InputMismatchError, OutputMismatchError) as exc:
        return failed(_short(str(exc)), **found)
    return _loaded_and_probed(descriptor, data, found)


def _static(path: Path, descriptor: Descriptor, limits: Limits) -> dict[str, Any]:
    """What the file declares, checked before any runtime opens it."""
    try:
        # External data is never followed: tensors that point outside are refused below.
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError and friends: all mean "not a model"
        raise UnsafeModelError(f"not an ONNX model: the file does not parse ({exc})") from exc
    facts = inspect(model, limits.max_tensor_mb << 20)
    del model
    check_image_input(facts.inputs, descriptor.input_size)
    decoder = decoder_for(descriptor, facts.outputs)
    return {
        "opset": facts.opset,
        "inputs": _summaries(facts.inputs),
        "outputs": _summaries(facts.outputs),
        "layout": decoder.layout,
    }


def _loaded_and_probed(
    descriptor: Descriptor, data: bytes, found: dict[str, Any]
) -> ValidationResult:
    from prelabel_detector.backends.onnx_runtime import OnnxBackend

    started = time.perf_counter()
    try:
        backend = OnnxBackend(descriptor, threads=1, data=data)
    except Exception as exc:  # ONNX Runtime raises its own types for every kind of bad graph
        return failed(_runtime_reason("ONNX Runtime cannot load the model", exc), **found)
    found["load_ms"] = _ms(started)
    started = time.perf_counter()
    try:
        (candidates,) = backend.candidates([probe_image()])
    except OutputMismatchError as exc:
        return failed(_short(str(exc)), **found)
    except Exception as exc:  # whatever the graph does at run time is the model's failure
        return failed(_runtime_reason("the model failed on a probe image", exc), **found)
    if not np.all(np.isfinite(candidates.scores)):
        return failed("the model's scores on a probe image are not all numbers", **found)
    if candidates.out_of_range:
        return failed(
            f"the model answered {candidates.out_of_range} boxes with labels outside its "
            f"{len(descriptor.classes)} declared classes",
            **found,
        )
    detections = to_detections(
        candidates.boxes,
        candidates.scores,
        candidates.class_ids,
        (640, 480),
        Options(),
        descriptor.classes,
        nms=not candidates.nms_done,
    )
    found.update(
        probe_ms=_ms(started),
        probe_detections=len(detections),
        layout=backend.decoder.layout,
    )
    return ValidationResult(READY, **found)


def probe_image() -> Pixels:
    """A 640x480 BGR picture with gradients and blocks: something for every layer to chew."""
    ys, xs = np.mgrid[0:480, 0:640]
    image = np.stack([xs * 255 // 639, ys * 255 // 479, (xs + ys) * 255 // 1118], axis=-1)
    image = image.astype(np.uint8)
    image[100:300, 150:350] = (40, 160, 220)
    image[250:420, 400:600] = (230, 230, 230)
    return np.ascontiguousarray(image)


def peak_memory() -> int:
    """This process's peak resident memory since it started (its exec)."""
    # VmHWM belongs to the process's own address space; ru_maxrss would also count the
    # parent's memory at the moment it spawned this process.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _summaries(infos: list[OutputInfo]) -> list[TensorSummary]:
    return [TensorSummary(i.name, list(i.shape), i.dtype) for i in infos]


def _runtime_reason(what: str, exc: Exception) -> str:
    message = str(exc)
    if isinstance(exc, MemoryError) or any(
        sign in message for sign in ("bad_alloc", "bad allocation", "Failed to allocate")
    ):
        return f"{what}: it needs more memory than validation allows"
    return f"{what}: {_short(message)}"


def _short(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "(no message)"
    return line if len(line) <= REASON_CHARS else line[: REASON_CHARS - 1] + "…"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
