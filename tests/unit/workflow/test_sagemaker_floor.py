"""The SageMaker adapter sends the score floor it is given, in the wire format the model
server parses, never above what was asked."""

from __future__ import annotations

import io
from typing import Any, cast

import pytest

from prelabel.adapters.sagemaker_detector import SageMakerDetector
from prelabel.detector_wire import ImageResult, decode_request, encode_response


class RecordingRuntime:
    """sagemaker-runtime's invoke_endpoint, answering an empty result per image."""

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, str]] = []

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append((kwargs["Body"], kwargs["ContentType"]))
        images = decode_request(kwargs["Body"], kwargs["ContentType"]).images
        body = encode_response("m", "1", [ImageResult() for _ in images])
        return {"Body": io.BytesIO(body)}


@pytest.mark.parametrize(
    ("asked", "sent"), [(0.05, 0.05), (0.01, 0.01), (0.5, 0.5), (0.1234567, 0.123456)]
)
def test_the_endpoint_gets_the_floor_the_worker_asked_for(asked: float, sent: float) -> None:
    # Given the adapter over a runtime client that records its requests
    runtime = RecordingRuntime()
    detector = SageMakerDetector(lambda: cast(Any, runtime), "ep", backoff_s=0)
    # When two images are detected with a score floor
    detector.detect([b"\xff\xd8a", b"\xff\xd8b"], score_floor=asked)
    # Then the server-side parse of the request reads that floor (6 decimals, rounded down)
    ((body, content_type),) = runtime.requests
    options = decode_request(body, content_type).options
    assert options.score_floor == pytest.approx(sent, abs=1e-12)
    assert options.score_floor <= asked
