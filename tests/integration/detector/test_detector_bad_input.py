"""Hostile and broken input through the real handler chain: per-image errors or 4xx, no crash."""

from __future__ import annotations

import base64
import json
import struct
import zlib

import pytest

from prelabel.detector_wire import (
    MAX_BATCH,
    MalformedRequestError,
    NotAcceptableError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    decode_response,
    encode_batch,
)
from prelabel_detector.handler import LoadedModel, input_fn, output_fn, predict_fn


def png_header(width: int, height: int) -> bytes:
    # Hand-built header with a valid CRC: encoders refuse to write such sizes, attackers do not.
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def run(model: LoadedModel, body: bytes, content_type: str) -> list[dict[str, object]]:
    payload = output_fn(predict_fn(input_fn(body, content_type), model), "application/json")
    results: list[dict[str, object]] = json.loads(payload)["results"]
    return results


def test_bad_images_get_errors_and_the_rest_is_answered(
    model: LoadedModel, photos: dict[str, bytes]
) -> None:
    # Given a batch mixing a good photo with corrupt, non-image, empty and zero-size entries
    good = photos["chelsea"]
    truncated = good[: len(good) // 3]
    images = [good, b"\xff\xd8\xff\xe0garbage", b"%PDF-1.4 not an image", b"", png_header(0, 10)]
    images += [truncated, b"GIF89a" + b"\x00" * 20, good]
    body, content_type = encode_batch(images)
    # When the batch is processed
    results = run(model, body, content_type)
    # Then each bad entry carries its reason and both good photos still get their cat
    assert len(results) == len(images)
    for index in (1, 2, 3, 4, 5, 6):
        assert "error" in results[index], (index, results[index])
    assert "0 bytes" in str(results[3]["error"])
    assert "zero-size" in str(results[4]["error"]) or "not a readable" in str(results[4]["error"])
    for index in (0, 7):
        classes = [d["class_name"] for d in results[index]["detections"]]  # type: ignore[attr-defined]
        assert "cat" in classes


def test_decompression_bomb_is_rejected_before_decoding(model: LoadedModel) -> None:
    # Given a tiny PNG that claims 8000x8000 pixels (64 MP, over the 50 MP limit)
    body, content_type = encode_batch([png_header(8000, 8000)])
    # When it is processed
    (result,) = run(model, body, content_type)
    # Then it is refused for its size, not decoded
    assert "pixels" in str(result["error"])


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (encode_batch([])[0], encode_batch([])[1], MalformedRequestError),
        (b"PLB1\x05\x00\x00\x00", "application/x-prelabel-batch", MalformedRequestError),
        (b"hello", "application/x-prelabel-batch", MalformedRequestError),
        (encode_batch([b"x"] * (MAX_BATCH + 1))[0], encode_batch([])[1], PayloadTooLargeError),
        (b"<xml/>", "application/xml", UnsupportedMediaTypeError),
        (b"\x00", None, UnsupportedMediaTypeError),
        (b'{"images": "nope"}', "application/json", MalformedRequestError),
        (b'{"images": ["***"]}', "application/json", MalformedRequestError),
        (
            encode_batch([b"x"])[0],
            "application/x-prelabel-batch; score_floor=2",
            MalformedRequestError,
        ),
    ],
    ids=["empty", "truncated", "no-magic", "oversized", "xml", "no-type", "json", "b64", "floor"],
)
def test_malformed_requests_are_refused_whole(
    body: bytes, content_type: str | None, error: type[Exception]
) -> None:
    # Given a request that is not a usable batch
    # When the container decodes it
    # Then it raises the error whose HTTP status the server answers with
    with pytest.raises(error):
        input_fn(body, content_type)


def test_json_form_gives_the_same_answer_as_binary(
    ssd_model: LoadedModel, photos: dict[str, bytes]
) -> None:
    # Given the same two photos framed as binary and as base64 JSON
    images = [photos["astronaut"], photos["coffee"]]
    binary, binary_type = encode_batch(images, score_floor=0.4)
    as_json = json.dumps(
        {"images": [base64.b64encode(i).decode() for i in images], "score_floor": 0.4}
    ).encode()
    # When both are processed
    from_binary = run(ssd_model, binary, binary_type)
    from_json = run(ssd_model, as_json, "application/json")
    # Then the responses are identical
    assert from_binary == from_json


def test_response_parses_with_client_helper(
    ssd_model: LoadedModel, photos: dict[str, bytes]
) -> None:
    # Given a response from the real model
    body, content_type = encode_batch([photos["astronaut"], b"junk"])
    payload = output_fn(predict_fn(input_fn(body, content_type), ssd_model), None)
    # When the worker's helper decodes it
    response = decode_response(payload)
    # Then it names the model and carries typed results in order
    assert (response.model_name, response.model_version) == ("ssd-mobilenet-v2-coco", "2018-03-29")
    assert response.results[0].detections[0].class_name == "person"
    assert response.results[1].error is not None


def test_unacceptable_accept_header_is_refused(
    ssd_model: LoadedModel, photos: dict[str, bytes]
) -> None:
    # Given a prediction
    body, content_type = encode_batch([photos["chelsea"]])
    prediction = predict_fn(input_fn(body, content_type), ssd_model)
    # When the caller only accepts CSV
    # Then the container refuses with 406
    with pytest.raises(NotAcceptableError):
        output_fn(prediction, "text/csv")
