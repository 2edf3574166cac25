"""One endpoint, many models: SageMaker's multi-model container contract, and the Runtime
API's TargetModel on the local server, with real models built from the shared YOLOX-Nano."""

from __future__ import annotations

import hashlib
import http.client
import json
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config

from prelabel.detector_wire import decode_response, encode_batch
from prelabel_detector.artifact import build_model_artifact
from prelabel_detector.handler import LoadedModel
from prelabel_detector.server import DetectorServer, model_host, serve_in_thread
from prelabel_detector.sources import FolderSource
from prelabel_detector.store import estimate_cost
from tests.integration.detector.conftest import ENDPOINT, YOLOX_DIR, _free_port
from tests.model_files import build, declaration

CUSTOM = "org-1/forklifts/{sha}.tar.gz"
V8 = "org-2/coco-v8/{sha}.tar.gz"


def artifact(root: Path, key: str, family_model: str) -> str:
    """Build a validated upload's artifact at its TargetModel key; return that key."""
    data = build(family_model)
    sha = hashlib.sha256(data).hexdigest()
    target = key.format(sha=sha)
    onnx_file = root.parent / f"{sha}.onnx"
    onnx_file.write_bytes(data)
    build_model_artifact(onnx_file, declaration(family_model), family_model, sha, root / target)
    return target


@pytest.fixture(scope="module")
def models_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (YOLOX_DIR / "yolox_nano.onnx").is_file():
        pytest.skip(f"yolox_nano.onnx not present in {YOLOX_DIR} (test-only model file)")
    root = tmp_path_factory.mktemp("endpoint") / "models"
    root.mkdir()
    return root


@pytest.fixture(scope="module")
def targets(models_root: Path) -> dict[str, str]:
    return {
        "custom": artifact(models_root, CUSTOM, "custom-classes"),
        "v8": artifact(models_root, V8, "ultralytics-v8"),
    }


@contextmanager
def start(server: DetectorServer) -> Iterator[DetectorServer]:
    thread = serve_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def local(ssd_model: LoadedModel, models_root: Path, targets: dict[str, str]) -> Iterator[Any]:
    """The local server: the default model, plus TargetModel artifacts from a folder."""
    host = model_host(FolderSource(models_root), budget_bytes=1 << 30)
    with start(DetectorServer(("127.0.0.1", _free_port()), ssd_model, ENDPOINT, host)) as running:
        yield running


@pytest.fixture
def container(tmp_path: Path, models_root: Path, targets: dict[str, str]) -> Iterator[Any]:
    """The SageMaker multi-model container: no default model; loads what it is told to."""
    opt_ml_models = tmp_path / "opt-ml-models"
    for name, target in targets.items():
        folder = opt_ml_models / name / "model"
        folder.mkdir(parents=True)
        with tarfile.open(models_root / target) as tar:
            tar.extractall(folder, filter="data")
    host = model_host(None, budget_bytes=1 << 30, url_root=opt_ml_models)
    server = DetectorServer(("127.0.0.1", _free_port()), None, ENDPOINT, host)
    server.opt_ml_models = opt_ml_models  # type: ignore[attr-defined]
    with start(server) as running:
        yield running


def call(
    server: DetectorServer, method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[int, Any]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None
    finally:
        conn.close()


def runtime_client(server: DetectorServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", server.url)
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    return session.client("sagemaker-runtime", config=Config(retries={"max_attempts": 1}))


def test_container_loads_lists_invokes_and_unloads_as_sagemaker_asks(
    container: DetectorServer, photos: dict[str, bytes]
) -> None:
    # Given the multi-model container and a model SageMaker unpacked under /opt/ml/models
    root = container.opt_ml_models  # type: ignore[attr-defined]
    load = json.dumps({"model_name": "a1b2", "url": str(root / "custom" / "model")}).encode()
    body, content_type = encode_batch([photos["astronaut"], photos["chelsea"]])
    # When SageMaker loads it, loads it again, lists, describes and invokes it
    assert call(container, "POST", "/models", load)[0] == 200
    assert call(container, "POST", "/models", load)[0] == 409
    listing = call(container, "GET", "/models")[1]
    status, described = call(container, "GET", "/models/a1b2")
    invoked, answer = call(
        container, "POST", "/models/a1b2/invoke", body, **{"Content-Type": content_type}
    )
    # Then it is listed with its url, loaded, and answers with its own classes
    assert listing == {"models": [{"modelName": "a1b2", "modelUrl": str(root / "custom/model")}]}
    assert status == 200 and described["resident"] and described["memoryBytes"] > 0
    assert invoked == 200
    names = {d["class_name"] for r in answer["results"] for d in r["detections"]}
    assert names == {"worker"}
    # When it is unloaded
    assert call(container, "DELETE", "/models/a1b2")[0] == 200
    # Then it is unknown to every route
    assert call(container, "GET", "/models/a1b2")[0] == 404
    assert call(container, "DELETE", "/models/a1b2")[0] == 404
    assert call(container, "POST", "/models/a1b2/invoke", body)[0] == 404


def test_container_refuses_what_sagemaker_would_not_send(container: DetectorServer) -> None:
    # Given the container, whose models live under /opt/ml/models
    root = container.opt_ml_models  # type: ignore[attr-defined]
    (root / "empty" / "model").mkdir(parents=True)
    outside = json.dumps({"model_name": "x", "url": "/etc"}).encode()
    empty = json.dumps({"model_name": "y", "url": str(root / "empty" / "model")}).encode()
    # When it is asked to load from elsewhere, with a malformed body, or a folder with no model
    # Then: 400, 400, and 500 with the reason; none of them is listed afterwards
    assert call(container, "POST", "/models", outside)[0] == 400
    assert call(container, "POST", "/models", b"{")[0] == 400
    status, answer = call(container, "POST", "/models", empty)
    assert status == 500 and "descriptor.json" in answer["message"]
    assert call(container, "GET", "/models")[1] == {"models": []}
    # and a request without a model name has nothing to answer it
    assert call(container, "POST", "/invocations", b"x")[0] == 400


def test_container_answers_507_when_a_model_cannot_fit(
    tmp_path: Path, models_root: Path, targets: dict[str, str]
) -> None:
    # Given a container whose memory budget is below one model's size
    folder = tmp_path / "m" / "model"
    folder.mkdir(parents=True)
    with tarfile.open(models_root / targets["v8"]) as tar:
        tar.extractall(folder, filter="data")
    host = model_host(None, budget_bytes=estimate_cost(folder) // 2)
    server = DetectorServer(("127.0.0.1", _free_port()), None, ENDPOINT, host)
    with start(server) as running:
        # When SageMaker asks it to load the model
        load = json.dumps({"model_name": "big", "url": str(folder)}).encode()
        status, answer = call(running, "POST", "/models", load)
        # Then it answers 507 (SageMaker then unloads models it holds unused)
        assert status == 507
        assert "the budget is" in answer["message"]


def test_target_model_picks_the_model_and_no_target_keeps_the_default(
    local: DetectorServer,
    targets: dict[str, str],
    photos: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the local server with an organization's model as an artifact at its TargetModel
    runtime = runtime_client(local, monkeypatch)
    body, content_type = encode_batch([photos["astronaut"], photos["coffee"]], score_floor=0.3)
    # When boto3 invokes the endpoint naming that model, and without a TargetModel
    named = runtime.invoke_endpoint(
        EndpointName=ENDPOINT, Body=body, ContentType=content_type, TargetModel=targets["custom"]
    )
    default = runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=body, ContentType=content_type)
    # Then the named model answers with its name, its version (the file's sha256), its classes
    custom = decode_response(named["Body"].read())
    assert custom.model_name == "custom-classes"
    assert custom.model_version == targets["custom"].split("/")[-1].removesuffix(".tar.gz")
    found = {d.class_name for r in custom.results for d in r.detections}
    assert found == {"worker"}
    # and without a TargetModel the built-in default model answers, as before
    assert decode_response(default["Body"].read()).model_name == "ssd-mobilenet-v2-coco"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("org-1/forklifts/absent.tar.gz", "Failed to download model data"),
        ("org-1/../../etc/passwd", "is not a relative artifact name"),
    ],
)
def test_unknown_or_escaping_target_models_raise_validation_error(
    local: DetectorServer,
    coco_photos: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    target: str,
    message: str,
) -> None:
    # Given a TargetModel with no artifact, or one that climbs out of the model prefix
    runtime = runtime_client(local, monkeypatch)
    body, content_type = encode_batch([coco_photos["000000000285"]])
    # When boto3 invokes the endpoint with it
    with pytest.raises(runtime.exceptions.ValidationError, match=message):
        runtime.invoke_endpoint(
            EndpointName=ENDPOINT, Body=body, ContentType=content_type, TargetModel=target
        )
    # Then botocore raises ValidationError, and nothing was registered
    assert call(local, "GET", "/models")[1] == {"models": []}


def test_a_single_model_server_refuses_target_model_as_aws_does(
    server: DetectorServer, coco_photos: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a server without a model source (a single-model endpoint)
    runtime = runtime_client(server, monkeypatch)
    body, content_type = encode_batch([coco_photos["000000000285"]])
    # When a TargetModel is sent
    # Then it is refused as AWS refuses it on a single-model endpoint
    with pytest.raises(runtime.exceptions.ValidationError, match="not a multi-model endpoint"):
        runtime.invoke_endpoint(
            EndpointName=server.endpoint_name,
            Body=body,
            ContentType=content_type,
            TargetModel="org-1/m.tar.gz",
        )


def test_concurrent_requests_for_a_cold_model_share_one_load(
    local: DetectorServer,
    targets: dict[str, str],
    coco_photos: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a model no request has used yet, and 8 requests ready to go at once
    runtime = runtime_client(local, monkeypatch)
    body, content_type = encode_batch([coco_photos["000000000776"]])
    ready = threading.Barrier(8)

    def invoke() -> bytes:
        ready.wait()
        reply = runtime.invoke_endpoint(
            EndpointName=ENDPOINT, Body=body, ContentType=content_type, TargetModel=targets["v8"]
        )
        return bytes(reply["Body"].read())

    # When they all name it
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: invoke(), range(8)))
    # Then one load served them all, and they all got the same detections
    assert local.models is not None
    assert local.models.store.figures.loads == 1
    assert len(set(answers)) == 1
    assert decode_response(answers[0]).results[0].detections


def test_least_recently_used_model_is_evicted_and_reloaded_on_demand(
    photos: dict[str, bytes],
    ssd_model: LoadedModel,
    models_root: Path,
    targets: dict[str, str],
    coco_photos: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a local server whose budget holds one of the two models, not both
    one_model = estimate_cost(models_root / targets["v8"])
    host = model_host(FolderSource(models_root), budget_bytes=int(one_model * 1.5))
    server = DetectorServer(("127.0.0.1", _free_port()), ssd_model, ENDPOINT, host)
    runtime = runtime_client(server, monkeypatch)
    images = [photos["astronaut"], coco_photos["000000000776"]]
    body, content_type = encode_batch(images, score_floor=0.3)

    def names(target: str) -> set[str]:
        reply = runtime.invoke_endpoint(
            EndpointName=ENDPOINT, Body=body, ContentType=content_type, TargetModel=target
        )
        found = decode_response(reply["Body"].read())
        return {d.class_name for result in found.results for d in result.detections}

    with start(server) as running:
        # When the v8 model, the custom model, then the v8 model again are used
        first = names(targets["v8"])
        custom = names(targets["custom"])
        again = names(targets["v8"])
        # Then each answered with its own classes; v8 was evicted for the custom model, then
        # loaded again, which evicted the custom model in turn
        assert first == again and {"person", "teddy bear"} <= first
        assert custom == {"worker"}
        assert (host.store.figures.loads, host.store.figures.evictions) == (3, 2)
        resident = {s.name for s in host.store.states() if s.resident}
        assert resident == {targets["v8"]}
        listed = call(running, "GET", f"/models/{quote(targets['custom'], safe='')}")
        assert listed[0] == 200 and listed[1]["resident"] is False


def test_the_container_image_entrypoint_serves_the_multi_model_contract() -> None:
    # Given the command the container image runs (its Dockerfile's ENTRYPOINT), as SageMaker
    # starts it (`serve`), on a free port
    dockerfile = Path(__file__).resolve().parents[3] / "infra" / "detector" / "Dockerfile"
    line = next(x for x in dockerfile.read_text().splitlines() if x.startswith("ENTRYPOINT"))
    entrypoint = json.loads(line.removeprefix("ENTRYPOINT"))
    assert entrypoint[:3] == ["python", "-m", "prelabel_detector.server"]
    port = _free_port()
    command = [sys.executable, *entrypoint[1:], "--host", "127.0.0.1", "--port", str(port), "serve"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # When SageMaker checks its health and asks what it holds
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/ping")
                ping = conn.getresponse()
                ping.read()
                break
            except OSError:
                assert time.monotonic() < deadline, "the container command did not start"
                time.sleep(0.2)
        conn.request("GET", "/models")
        listing = json.loads(conn.getresponse().read())
        conn.request("POST", "/models", body=json.dumps({"model_name": "m", "url": "/tmp/m"}))
        outside = conn.getresponse()
        outside.read()
        conn.close()
        # Then it is healthy, holds nothing yet, and loads only from /opt/ml/models
        assert ping.status == 200
        assert listing == {"models": []}
        assert outside.status == 400
    finally:
        process.terminate()
        process.wait(timeout=10)
