"""The local server through boto3's sagemaker-runtime client, as the worker calls it."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config

from prelabel.detector_wire import BATCH_CONTENT_TYPE, MAX_BATCH, decode_response, encode_batch
from prelabel_detector.server import DetectorServer


@pytest.fixture
def runtime(server: DetectorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # The same variable the Lambda worker gets; no endpoint_url argument in the client call.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", server.url)
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    client = session.client("sagemaker-runtime", config=Config(retries={"max_attempts": 1}))
    yield client
    client.close()


def raw_request(
    server: DetectorServer, method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_ping_answers_200(server: DetectorServer) -> None:
    # Given a running server
    # When SageMaker's health check calls GET /ping
    status, _, _ = raw_request(server, "GET", "/ping")
    # Then it is healthy
    assert status == 200


def test_invoke_endpoint_returns_detections(
    server: DetectorServer, runtime: Any, photos: dict[str, bytes]
) -> None:
    # Given a batch of two photos in the binary framing
    body, content_type = encode_batch([photos["astronaut"], photos["stereo_motorcycle"]])
    # When boto3 invokes the endpoint by name
    response = runtime.invoke_endpoint(
        EndpointName=server.endpoint_name,
        Body=body,
        ContentType=content_type,
        Accept="application/json",
    )
    # Then the detections come back per image, in order, with the model's identity
    assert response["ContentType"] == "application/json"
    decoded = decode_response(response["Body"].read())
    assert decoded.model_name == "ssd-mobilenet-v2-coco"
    assert decoded.results[0].detections[0].class_name == "person"
    assert decoded.results[1].detections[0].class_name == "motorcycle"


def test_container_route_serves_the_same_answer(
    server: DetectorServer, runtime: Any, photos: dict[str, bytes]
) -> None:
    # Given one batch
    body, content_type = encode_batch([photos["coffee"]])
    # When it is sent to the container route and through the runtime API route
    status, _, direct = raw_request(
        server, "POST", "/invocations", body, **{"Content-Type": content_type}
    )
    via_runtime = runtime.invoke_endpoint(
        EndpointName=server.endpoint_name, Body=body, ContentType=content_type
    )
    # Then both answer identically
    assert status == 200
    assert json.loads(direct) == json.loads(via_runtime["Body"].read())


@pytest.mark.parametrize(
    ("body", "content_type", "original_status"),
    [
        (b"<xml/>", "application/xml", 415),
        (encode_batch([])[0], BATCH_CONTENT_TYPE, 400),
        (b"PLB1\x02\x00\x00\x00", BATCH_CONTENT_TYPE, 400),
        (encode_batch([b"x"] * (MAX_BATCH + 1))[0], BATCH_CONTENT_TYPE, 413),
    ],
    ids=["unsupported-type", "empty-batch", "truncated", "oversized-batch"],
)
def test_rejected_requests_raise_model_error_like_aws(
    server: DetectorServer, runtime: Any, body: bytes, content_type: str, original_status: int
) -> None:
    # Given a request the container refuses
    # When boto3 invokes the endpoint
    with pytest.raises(runtime.exceptions.ModelError) as caught:
        runtime.invoke_endpoint(
            EndpointName=server.endpoint_name, Body=body, ContentType=content_type
        )
    # Then botocore raises ModelError (HTTP 424) carrying the container's status and message
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == original_status
    assert error["OriginalMessage"]


def test_unknown_endpoint_raises_validation_error(runtime: Any, photos: dict[str, bytes]) -> None:
    # Given a valid batch
    body, content_type = encode_batch([photos["chelsea"]])
    # When it is sent to an endpoint name the server does not serve
    with pytest.raises(runtime.exceptions.ValidationError) as caught:
        runtime.invoke_endpoint(
            EndpointName="no-such-endpoint", Body=body, ContentType=content_type
        )
    # Then botocore raises ValidationError naming the endpoint, as AWS does
    assert "no-such-endpoint" in str(caught.value)


def test_body_over_6_mb_raises_validation_error(server: DetectorServer, runtime: Any) -> None:
    # Given a body above SageMaker's 6 MB payload limit
    body, content_type = encode_batch([b"\x00" * (6 * 1024 * 1024 + 1)])
    # When it is sent
    with pytest.raises(runtime.exceptions.ValidationError):
        runtime.invoke_endpoint(
            EndpointName=server.endpoint_name, Body=body, ContentType=content_type
        )
    # Then botocore raises ValidationError (and the server keeps serving, see the next tests)


def test_concurrent_invocations_all_succeed_identically(
    runtime: Any, server: DetectorServer, photos: dict[str, bytes]
) -> None:
    # Given one batch and 8 concurrent callers, some sending garbage alongside
    body, content_type = encode_batch(list(photos.values()))

    def call(i: int) -> bytes:
        if i % 3 == 2:
            raw_request(server, "POST", "/invocations", b"junk", **{"Content-Type": "text/plain"})
        response = runtime.invoke_endpoint(
            EndpointName=server.endpoint_name, Body=body, ContentType=content_type
        )
        payload: bytes = response["Body"].read()
        return payload

    # When they all invoke the endpoint at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(call, range(8)))
    # Then every caller gets the full, identical answer and the server is still healthy
    assert len(set(answers)) == 1
    assert len(decode_response(answers[0]).results) == 4
    assert raw_request(server, "GET", "/ping")[0] == 200


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("POST", "/invocations", {"Content-Type": "application/xml"}, 415),
        ("GET", "/nowhere", {}, 404),
        ("POST", "/endpoints/x/y", {}, 404),
    ],
)
def test_container_route_answers_plain_http_errors(
    server: DetectorServer, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    # Given a request the container contract does not serve
    # When it reaches the server directly
    got, response_headers, body = raw_request(server, method, path, b"<x/>", **headers)
    # Then the status says why and the body is a JSON message
    assert got == status
    assert response_headers["Content-Type"] == "application/json"
    assert json.loads(body)["message"]
