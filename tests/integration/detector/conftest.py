"""Real models and real photos, loaded once per session for the detector's integration tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from prelabel_detector.descriptor import Descriptor, bundled
from prelabel_detector.handler import LoadedModel, load_model
from prelabel_detector.server import DetectorServer, serve_in_thread

YOLOX_DIR = Path(__file__).resolve().parents[4] / "shared" / "models" / "yolox-nano"
COCO_DIR = Path(__file__).resolve().parents[4] / "shared" / "data" / "coco-val-sample"
ENDPOINT = "prelabel-detector-test"


def _png(rgb: np.ndarray) -> bytes:
    # PNG is lossless, so the pixels the model sees are exactly scikit-image's and the
    # hard-coded reference boxes stay valid.
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return bytes(data.tobytes())


@pytest.fixture(scope="session")
def photos() -> dict[str, bytes]:
    return {
        "astronaut": _png(skimage.data.astronaut()),
        "chelsea": _png(skimage.data.chelsea()),
        "coffee": _png(skimage.data.coffee()),
        "stereo_motorcycle": _png(skimage.data.stereo_motorcycle()[0]),
    }


@pytest.fixture(scope="session")
def coco_photos() -> dict[str, bytes]:
    if not COCO_DIR.is_dir():
        pytest.skip(f"COCO sample photos not present at {COCO_DIR}")
    names = ("000000000285", "000000000724", "000000000776", "000000000802")
    return {name: (COCO_DIR / f"{name}.jpg").read_bytes() for name in names}


@pytest.fixture(scope="session")
def ssd_model() -> LoadedModel:
    return load_model(Descriptor.load(bundled("ssd_mobilenet_v2_coco.json")))


@pytest.fixture(scope="session")
def yolox_model() -> LoadedModel:
    if not (YOLOX_DIR / "yolox_nano.onnx").is_file():
        pytest.skip(f"yolox_nano.onnx not present in {YOLOX_DIR} (test-only model file)")
    return load_model(Descriptor.load(bundled("yolox_nano.json"), YOLOX_DIR))


@pytest.fixture(scope="session")
def torch_weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """yolox_nano.pt converted from the shared ONNX export, as `deploy convert` makes it."""
    pytest.importorskip(
        "torch", reason="torch is not installed (the `torch` extra): yolox-torch tests skipped"
    )
    pytest.importorskip("onnx", reason="onnx is not installed (the `torch` extra)")
    if not (YOLOX_DIR / "yolox_nano.onnx").is_file():
        pytest.skip(f"yolox_nano.onnx not present in {YOLOX_DIR} (test-only model file)")
    from prelabel_detector.backends.yolox_weights import convert

    out = tmp_path_factory.mktemp("yolox-torch") / "yolox_nano.pt"
    convert(YOLOX_DIR / "yolox_nano.onnx", out)
    return out.parent


@pytest.fixture(scope="session")
def yolox_torch_model(torch_weights_dir: Path) -> LoadedModel:
    return load_model(
        Descriptor.load(bundled("yolox_nano_torch.json"), torch_weights_dir), device="cpu"
    )


@pytest.fixture(scope="session", params=["ssd-tf", "yolox-onnx", "yolox-torch"])
def model(request: pytest.FixtureRequest) -> LoadedModel:
    names = {"ssd-tf": "ssd_model", "yolox-onnx": "yolox_model", "yolox-torch": "yolox_torch_model"}
    loaded: LoadedModel = request.getfixturevalue(names[request.param])
    return loaded


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(ssd_model: LoadedModel) -> Iterator[DetectorServer]:
    srv = DetectorServer(("127.0.0.1", _free_port()), ssd_model, ENDPOINT)
    thread = serve_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)
