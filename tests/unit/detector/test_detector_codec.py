"""The wire format the worker and the model server share."""

from __future__ import annotations

import json

import pytest

from prelabel.detector_wire import (
    BATCH_CONTENT_TYPE,
    Detection,
    ImageResult,
    ResponseFormatError,
    decode_request,
    decode_response,
    encode_batch,
    encode_response,
)


def test_batch_round_trips_images_and_options() -> None:
    # Given three images of different sizes, one of them empty
    images = [b"\xff\xd8abc", b"", b"\x89PNG" + bytes(range(256))]
    # When the worker frames them with options and the server unframes them
    body, content_type = encode_batch(images, score_floor=0.35, agnostic_nms=True)
    request = decode_request(body, content_type)
    # Then the images come back byte for byte, in order, with the options
    assert content_type.startswith(BATCH_CONTENT_TYPE)
    assert request.images == images
    assert request.options.score_floor == pytest.approx(0.35)
    assert request.options.agnostic_nms is True


def test_defaults_apply_without_options() -> None:
    # Given a batch framed with no options
    body, content_type = encode_batch([b"x"])
    # When it is decoded
    options = decode_request(body, content_type).options
    # Then the documented defaults apply
    assert content_type == BATCH_CONTENT_TYPE
    assert (options.score_floor, options.agnostic_nms, options.max_detections) == (0.25, False, 100)


def test_framing_overhead_is_4_bytes_per_image_plus_8() -> None:
    # Given 8 images of 1000 bytes
    images = [b"a" * 1000] * 8
    # When framed
    body, _ = encode_batch(images)
    # Then the body is the images plus a tiny header (no base64 inflation)
    assert len(body) == 8000 + 8 + 4 * 8


def test_response_round_trips_detections_and_errors() -> None:
    # Given a server-side result with a detection and an error
    detection = Detection(15, "cat", 0.91234567, (1.0, 2.0, 300.5, 200.25))
    payload = encode_response("m", "1", [ImageResult([detection]), ImageResult(error="corrupt")])
    # When the worker decodes it
    response = decode_response(payload)
    # Then it has the same content, in order, with the documented JSON keys
    assert (response.model_name, response.model_version) == ("m", "1")
    assert response.results[0].detections == [Detection(15, "cat", 0.91235, detection.box)]
    assert response.results[1].error == "corrupt"
    raw = json.loads(payload)["results"][0]["detections"][0]
    assert set(raw) == {"class_id", "class_name", "score", "box"}


@pytest.mark.parametrize("payload", [b"not json", b"{}", b'{"model": {}, "results": []}'])
def test_foreign_response_raises_typed_error(payload: bytes) -> None:
    # Given a body that is not a detector response
    # When it is decoded
    # Then the client helper raises its own error, not a KeyError
    with pytest.raises(ResponseFormatError):
        decode_response(payload)
