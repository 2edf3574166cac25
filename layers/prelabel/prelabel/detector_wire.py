"""Wire format of the detector, shared by the model server and the pre-labeling worker.

Pure Python on purpose: it lives in the Lambda layer (no numpy, no OpenCV), and the model
artifact carries this one file beside the model server. See docs/detector.md for the contract.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


# Request errors carry the HTTP status the container answers; per-image problems are not errors.
class RequestError(Exception):
    """The whole request is unusable; no image of it is looked at."""

    status_code = 400


class MalformedRequestError(RequestError):
    status_code = 400


class PayloadTooLargeError(RequestError):
    status_code = 413


class UnsupportedMediaTypeError(RequestError):
    status_code = 415


class NotAcceptableError(RequestError):
    status_code = 406


class ResponseFormatError(ValueError):
    """A client got a body that is not the detector's response shape."""


BATCH_CONTENT_TYPE = "application/x-prelabel-batch"
JSON_CONTENT_TYPE = "application/json"
MAGIC = b"PLB1"
# SageMaker real-time endpoints refuse bodies above 6 MB, so batches never get bigger than this.
MAX_BODY_BYTES = 6 * 1024 * 1024
MAX_BATCH = 32
# The endpoint's tag holding one instance's measured images/s (end to end, at batches of
# MAX_BATCH): the deploy writes it, the run's Prepare reads it to size the run's concurrency.
CAPACITY_TAG = "prelabel:images-per-second"
_U32 = struct.Struct("<I")


@dataclass(frozen=True)
class Options:
    score_floor: float = 0.25
    agnostic_nms: bool = False
    max_detections: int = 100
    iou_threshold: float = 0.45


@dataclass(frozen=True)
class Detection:
    class_id: int
    class_name: str
    score: float
    box: tuple[float, float, float, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "class_id": self.class_id,
            "class_name": self.class_name,
            "score": round(self.score, 5),
            "box": [round(v, 2) for v in self.box],
        }


@dataclass(frozen=True)
class ImageResult:
    detections: list[Detection] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class BatchRequest:
    images: list[bytes]
    options: Options


@dataclass(frozen=True)
class DetectorResponse:
    model_name: str
    model_version: str
    results: list[ImageResult]


def encode_batch(
    images: Sequence[bytes], *, score_floor: float | None = None, agnostic_nms: bool = False
) -> tuple[bytes, str]:
    """Frame already-encoded JPEG/PNG images as one request body and its content type."""
    parts = [MAGIC, _U32.pack(len(images))]
    parts.extend(_U32.pack(len(image)) for image in images)
    parts.extend(images)
    params = []
    if score_floor is not None:
        params.append(f"score_floor={score_floor:g}")
    if agnostic_nms:
        params.append("agnostic_nms=true")
    return b"".join(parts), "; ".join([BATCH_CONTENT_TYPE, *params])


def decode_response(body: bytes) -> DetectorResponse:
    try:
        doc = json.loads(body)
        model = doc["model"]
        results = [_image_result(item) for item in doc["results"]]
        return DetectorResponse(str(model["name"]), str(model["version"]), results)
    except (ValueError, KeyError, TypeError) as exc:
        raise ResponseFormatError(f"not a detector response: {exc}") from exc


def _image_result(item: dict[str, Any]) -> ImageResult:
    if "error" in item:
        return ImageResult(error=str(item["error"]))
    detections = [
        Detection(int(d["class_id"]), str(d["class_name"]), float(d["score"]), _box(d["box"]))
        for d in item["detections"]
    ]
    return ImageResult(detections=detections)


def _box(values: Sequence[float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in values)
    return (x1, y1, x2, y2)


def decode_request(body: bytes, content_type: str | None) -> BatchRequest:
    """Server side of `encode_batch` (and of the base64 JSON form); raises RequestError."""
    media_type, params = _parse_media_type(content_type or "")
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"request body is {len(body)} bytes, limit {MAX_BODY_BYTES}")
    if media_type == BATCH_CONTENT_TYPE:
        images = _unframe(body)
    elif media_type == JSON_CONTENT_TYPE:
        images, json_params = _from_json(body)
        params = {**params, **json_params}
    else:
        raise UnsupportedMediaTypeError(
            f"content type {media_type or '(none)'!r} is not supported; "
            f"use {BATCH_CONTENT_TYPE} or {JSON_CONTENT_TYPE}"
        )
    if not images:
        raise MalformedRequestError("the batch holds no image")
    if len(images) > MAX_BATCH:
        raise PayloadTooLargeError(f"the batch holds {len(images)} images, limit {MAX_BATCH}")
    return BatchRequest(images, _options(params))


def _parse_media_type(content_type: str) -> tuple[str, dict[str, str]]:
    media_type, *rest = content_type.split(";")
    params = {}
    for item in rest:
        key, sep, value = item.partition("=")
        if sep:
            params[key.strip().lower()] = value.strip().strip('"')
    return media_type.strip().lower(), params


def _unframe(body: bytes) -> list[bytes]:
    if body[:4] != MAGIC or len(body) < 8:
        raise MalformedRequestError("body does not start with the PLB1 batch header")
    (count,) = _U32.unpack_from(body, 4)
    if count > MAX_BATCH:
        raise PayloadTooLargeError(f"the batch holds {count} images, limit {MAX_BATCH}")
    offset = 8 + 4 * count
    if len(body) < offset:
        raise MalformedRequestError("batch header is truncated")
    lengths = [_U32.unpack_from(body, 8 + 4 * i)[0] for i in range(count)]
    if offset + sum(lengths) != len(body):
        raise MalformedRequestError("image lengths in the header do not add up to the body size")
    images = []
    for length in lengths:
        images.append(body[offset : offset + length])
        offset += length
    return images


def _from_json(body: bytes) -> tuple[list[bytes], dict[str, str]]:
    try:
        doc = json.loads(body)
        encoded = doc["images"]
        if not isinstance(encoded, list):
            raise TypeError("images must be a list")
        images = [base64.b64decode(item, validate=True) for item in encoded]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise MalformedRequestError(f'expected {{"images": [base64, ...]}}: {exc}') from exc
    params = {k: str(doc[k]).lower() for k in ("score_floor", "agnostic_nms") if k in doc}
    return images, params


def _options(params: dict[str, str]) -> Options:
    defaults = Options()
    try:
        floor = float(params.get("score_floor", defaults.score_floor))
    except ValueError as exc:
        raise MalformedRequestError(f"score_floor must be a number: {exc}") from exc
    if not 0.0 <= floor <= 1.0:
        raise MalformedRequestError("score_floor must lie in [0, 1]")
    agnostic = params.get("agnostic_nms", "false").lower()
    if agnostic not in ("true", "false", "1", "0"):
        raise MalformedRequestError("agnostic_nms must be true or false")
    return Options(score_floor=floor, agnostic_nms=agnostic in ("true", "1"))


def encode_response(model_name: str, model_version: str, results: Sequence[ImageResult]) -> bytes:
    items = [
        {"error": r.error}
        if r.error is not None
        else {"detections": [d.to_json() for d in r.detections]}
        for r in results
    ]
    doc = {"model": {"name": model_name, "version": model_version}, "results": items}
    return json.dumps(doc, separators=(",", ":")).encode()
