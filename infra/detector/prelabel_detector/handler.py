"""SageMaker inference entry points; the local server calls exactly these.

The SageMaker inference toolkit imports `code/inference.py`, which re-exports these four.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from prelabel.detector_wire import (
    JSON_CONTENT_TYPE,
    BatchRequest,
    DetectorResponse,
    ImageResult,
    NotAcceptableError,
    decode_request,
    encode_response,
)
from prelabel_detector.backends import Backend, load_backend
from prelabel_detector.descriptor import DESCRIPTOR_NAME, Descriptor

THREADS_ENV = "PRELABEL_DETECTOR_THREADS"
# "cuda", "cuda:1" or "cpu" for backends that can choose; unset: the GPU when there is one.
DEVICE_ENV = "PRELABEL_DETECTOR_DEVICE"


@dataclass(frozen=True)
class LoadedModel:
    descriptor: Descriptor
    backend: Backend


# The images stay as sent, in request order: decoding is the backend's (on its device if it can).
# The name is the one benchmarks/detector_torch.py imports.
PreparedBatch = BatchRequest


def load_model(
    descriptor: Descriptor, threads: int | None = None, device: str | None = None
) -> LoadedModel:
    return LoadedModel(descriptor, load_backend(descriptor, threads, device))


def model_fn(model_dir: str) -> LoadedModel:
    threads = os.environ.get(THREADS_ENV)
    descriptor = Descriptor.load(Path(model_dir) / DESCRIPTOR_NAME)
    return load_model(descriptor, int(threads) if threads else None, os.environ.get(DEVICE_ENV))


def input_fn(request_body: bytes, request_content_type: str | None) -> BatchRequest:
    return decode_request(request_body, request_content_type)


def predict_fn(data: BatchRequest, model: LoadedModel) -> DetectorResponse:
    outcomes = model.backend.detect_encoded(data.images, data.options)
    results = [
        ImageResult(error=item) if isinstance(item, str) else ImageResult(item) for item in outcomes
    ]
    return DetectorResponse(model.descriptor.name, model.descriptor.version, results)


def output_fn(prediction: DetectorResponse, accept: str | None) -> bytes:
    accepted = [part.split(";")[0].strip().lower() for part in (accept or "*/*").split(",")]
    if not any(a in (JSON_CONTENT_TYPE, "*/*", "application/*", "") for a in accepted):
        raise NotAcceptableError(f"responses are {JSON_CONTENT_TYPE}; Accept was {accept!r}")
    return encode_response(prediction.model_name, prediction.model_version, prediction.results)
