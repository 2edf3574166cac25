"""SageMaker inference entry points; the local server calls exactly these.

The SageMaker inference toolkit imports `code/inference.py`, which re-exports these four.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from prelabel.detector_wire import (
    JSON_CONTENT_TYPE,
    ImageResult,
    NotAcceptableError,
    Options,
    decode_request,
    encode_response,
)
from prelabel_detector.backends import Backend, load_backend
from prelabel_detector.descriptor import DESCRIPTOR_NAME, Descriptor
from prelabel_detector.images import ImageRejectedError, Pixels, decode_image

THREADS_ENV = "PRELABEL_DETECTOR_THREADS"


@dataclass(frozen=True)
class LoadedModel:
    descriptor: Descriptor
    backend: Backend


@dataclass(frozen=True)
class PreparedBatch:
    # Per image either its pixels or the reason it was rejected, in request order.
    items: list[Pixels | str]
    options: Options


@dataclass(frozen=True)
class Prediction:
    model_name: str
    model_version: str
    results: list[ImageResult]


def load_model(descriptor: Descriptor, threads: int | None = None) -> LoadedModel:
    return LoadedModel(descriptor, load_backend(descriptor, threads))


def model_fn(model_dir: str) -> LoadedModel:
    threads = os.environ.get(THREADS_ENV)
    descriptor = Descriptor.load(Path(model_dir) / DESCRIPTOR_NAME)
    return load_model(descriptor, int(threads) if threads else None)


def input_fn(request_body: bytes, request_content_type: str | None) -> PreparedBatch:
    request = decode_request(request_body, request_content_type)
    items: list[Pixels | str] = []
    for data in request.images:
        try:
            items.append(decode_image(data))
        except ImageRejectedError as exc:
            items.append(str(exc))
    return PreparedBatch(items, request.options)


def predict_fn(data: PreparedBatch, model: LoadedModel) -> Prediction:
    pixels = [item for item in data.items if not isinstance(item, str)]
    # One backend call for all readable images; rejected ones keep their slot with the reason.
    detections = iter(model.backend.detect(pixels, data.options))
    results = [
        ImageResult(error=item) if isinstance(item, str) else ImageResult(next(detections))
        for item in data.items
    ]
    return Prediction(model.descriptor.name, model.descriptor.version, results)


def output_fn(prediction: Prediction, accept: str | None) -> bytes:
    accepted = [part.split(";")[0].strip().lower() for part in (accept or "*/*").split(",")]
    if not any(a in (JSON_CONTENT_TYPE, "*/*", "application/*", "") for a in accepted):
        raise NotAcceptableError(f"responses are {JSON_CONTENT_TYPE}; Accept was {accept!r}")
    return encode_response(prediction.model_name, prediction.model_version, prediction.results)
