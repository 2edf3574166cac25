"""The PyTorch port of YOLOX-Nano against the ONNX export it was converted from, on the CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from prelabel.detector_wire import Detection, encode_batch
from prelabel.imaging.preprocess import prepare_image
from prelabel_detector.descriptor import Descriptor, bundled
from prelabel_detector.handler import LoadedModel, input_fn, predict_fn

torch = pytest.importorskip(
    "torch", reason="torch is not installed (the `torch` extra): yolox-torch tests skipped"
)

SHARED = Path(__file__).resolve().parents[4] / "shared"
YOLOX_DIR = SHARED / "models" / "yolox-nano"
COCO_DIR = SHARED / "data" / "coco-val-sample"
MIN_IOU = 0.9
# Detections this sure must appear in both backends; weaker ones may sit on either side of the
# 0.25 floor, where a rounding difference in resizing moves a score by a hundredth.
SURE = 0.3


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def detect(model: LoadedModel, images: list[bytes]) -> list[list[Detection]]:
    results = []
    for start in range(0, len(images), 8):
        body, content_type = encode_batch(images[start : start + 8])
        batch = predict_fn(input_fn(body, content_type), model).results
        assert all(r.error is None for r in batch)
        results += [r.detections for r in batch]
    return results


def unmatched(
    reference: list[list[Detection]], other: list[list[Detection]]
) -> list[tuple[int, Detection, float]]:
    """Sure detections of `reference` with no box of the same class at IoU >= 0.9 in `other`."""
    missing = []
    for index, (mine, theirs) in enumerate(zip(reference, other, strict=True)):
        for d in mine:
            if d.score < SURE:
                continue
            best = max((iou(d.box, t.box) for t in theirs if t.class_id == d.class_id), default=0)
            if best < MIN_IOU:
                missing.append((index, d, best))
    return missing


@pytest.fixture(scope="module")
def shared_photos() -> list[bytes]:
    photos = sorted(COCO_DIR.glob("*.jpg"))
    if not photos:
        pytest.skip(f"COCO sample photos not present at {COCO_DIR}")
    return [p.read_bytes() for p in photos]


@pytest.fixture(scope="module")
def as_sent(shared_photos: list[bytes]) -> list[bytes]:
    # What the worker sends: oriented, fitted into 416 px, re-encoded as JPEG.
    return [prepare_image(data, 416).payload for data in shared_photos]


def test_port_reproduces_the_onnx_graph(torch_weights_dir: Path, as_sent: list[bytes]) -> None:
    # Given the ONNX export run by ONNX Runtime and the port loaded from the converted weights
    import onnxruntime as ort

    from prelabel_detector.backends.yolox_weights import load_network
    from prelabel_detector.images import decode_image

    session = ort.InferenceSession(str(YOLOX_DIR / "yolox_nano.onnx"))
    net = load_network(torch_weights_dir / "yolox_nano.pt")
    # When both see the same letterboxed photos (raw BGR 0-255, pad 114)
    for data in as_sent[:4]:
        pixels = decode_image(data)
        canvas = np.full((416, 416, 3), 114, dtype=np.uint8)
        canvas[: pixels.shape[0], : pixels.shape[1]] = pixels
        tensor = canvas.transpose(2, 0, 1)[None].astype(np.float32)
        (expected,) = session.run(None, {"images": tensor})
        with torch.inference_mode():
            got = net(torch.from_numpy(tensor)).numpy()
        # Then the raw grid predictions agree to float32 rounding
        assert got.shape == expected.shape == (1, 3549, 85)
        assert np.abs(got - expected).max() < 1e-3


@pytest.mark.parametrize("form", ["as-sent-416", "original"])
def test_same_detections_as_the_onnx_backend_on_the_shared_photos(
    yolox_model: LoadedModel,
    yolox_torch_model: LoadedModel,
    shared_photos: list[bytes],
    as_sent: list[bytes],
    form: str,
) -> None:
    # Given the 40 shared COCO photos, as the worker sends them or as stored (torch resizes)
    images = as_sent if form == "as-sent-416" else shared_photos
    assert len(images) == 40
    # When the ONNX backend and the torch backend (CPU, fp32) detect objects in them
    onnx = detect(yolox_model, images)
    ported = detect(yolox_torch_model, images)
    # Then every sure detection of either has one of the same class at IoU >= 0.9 in the other
    assert sum(d.score >= SURE for image in onnx for d in image) > 100
    assert unmatched(onnx, ported) == []
    assert unmatched(ported, onnx) == []


def test_half_precision_keeps_the_detections(
    yolox_model: LoadedModel, torch_weights_dir: Path, as_sent: list[bytes]
) -> None:
    # Given the torch backend in fp16, the precision it runs in on a GPU (emulated on the CPU)
    from prelabel_detector.backends.yolox_torch import YoloxTorchBackend

    descriptor = Descriptor.load(bundled("yolox_nano_torch.json"), torch_weights_dir)
    half = LoadedModel(descriptor, YoloxTorchBackend(descriptor, device="cpu", half=True))
    assert half.backend.net.head.cls_preds[0].weight.dtype == torch.float16  # type: ignore[attr-defined]
    # When it and the ONNX backend detect objects in the photos as the worker sends them
    images = as_sent[:16]
    onnx, ported = detect(yolox_model, images), detect(half, images)
    # Then the sure detections still match at IoU >= 0.9
    assert unmatched(onnx, ported) == []
    assert unmatched(ported, onnx) == []


def test_cpu_backend_defaults_to_fp32(yolox_torch_model: LoadedModel) -> None:
    # Given the torch backend loaded for the CPU without a precision named
    backend = yolox_torch_model.backend
    # When its device and weights are inspected
    # Then it runs fp32 on the CPU, where fp16 convolutions are slow
    assert backend.device.type == "cpu"  # type: ignore[attr-defined]
    assert backend.dtype == torch.float32  # type: ignore[attr-defined]


def test_conversion_refuses_weights_of_another_architecture(tmp_path: Path) -> None:
    # Given the YOLOX-Nano export and a port sized as YOLOX-Tiny (width 0.375, no depthwise)
    pytest.importorskip("onnx", reason="onnx is not installed (the `torch` extra)")
    from prelabel_detector.backends.yolox_net import Architecture
    from prelabel_detector.backends.yolox_weights import WeightsError, convert

    tiny = Architecture(depth=0.33, width=0.375, depthwise=False)
    # When the weights are converted for it
    # Then the conversion stops on the first mismatch instead of writing a broken file
    with pytest.raises(WeightsError):
        convert(YOLOX_DIR / "yolox_nano.onnx", tmp_path / "tiny.pt", tiny)
    assert not (tmp_path / "tiny.pt").exists()


def test_weights_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    # Given a torch file that is not a converted YOLOX (a bare state dict)
    from prelabel_detector.backends.yolox_weights import WeightsError, load_network

    path = tmp_path / "other.pt"
    torch.save({"conv.weight": torch.zeros(1)}, path)
    # When the backend's loader reads it
    # Then it is refused with a reason
    with pytest.raises(WeightsError, match="not a prelabel-yolox"):
        load_network(path)


def test_packaged_torch_artifact_serves_from_its_model_dir(
    torch_weights_dir: Path,
    as_sent: list[bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given model.tar.gz packaged by the deploy CLI's defaults (the torch descriptor) with the
    # converted weights, unpacked as SageMaker does into /opt/ml/model
    import tarfile

    from prelabel_detector.deploy import main
    from prelabel_detector.handler import model_fn, output_fn

    artifact = tmp_path / "model.tar.gz"
    main(["package", "--weights-dir", str(torch_weights_dir), "--out", str(artifact)])
    with tarfile.open(artifact) as tar:
        names = set(tar.getnames())
        requirements = tar.extractfile("code/requirements.txt").read().decode()  # type: ignore[union-attr]
        tar.extractall(tmp_path / "model", filter="data")
    assert {"descriptor.json", "yolox_nano.pt", "code/inference.py"} <= names
    assert "code/prelabel_detector/backends/yolox_net.py" in names
    assert "onnxruntime" not in requirements  # the PyTorch container needs no ONNX Runtime
    # When the container's model_fn loads it and a request goes through the handlers
    monkeypatch.setenv("PRELABEL_DETECTOR_DEVICE", "cpu")
    model = model_fn(str(tmp_path / "model"))
    body, content_type = encode_batch(as_sent[:2])
    payload = output_fn(predict_fn(input_fn(body, content_type), model), "application/json")
    # Then the torch backend answers from the weights inside the folder, nothing outside it
    assert model.descriptor.family == "yolox-torch"
    assert model.descriptor.weights["model"] == tmp_path / "model" / "yolox_nano.pt"
    assert b'"version":"torch-416"' in payload
    assert b'"detections":[{' in payload


def test_floor_of_zero_keeps_nms_bounded_and_the_sure_boxes(
    yolox_torch_model: LoadedModel, as_sent: list[bytes]
) -> None:
    # Given a batch of photos and the lowest score floor the wire format allows
    images = as_sent[:8]
    body, content_type = encode_batch(images, score_floor=0.0)
    # When it is detected, and again at the default floor
    everything = [
        r.detections for r in predict_fn(input_fn(body, content_type), yolox_torch_model).results
    ]
    default = detect(yolox_torch_model, images)
    # Then each image gets at most 100 boxes, best first, and keeps every sure box of the default
    for low, usual in zip(everything, default, strict=True):
        assert 0 < len(low) <= 100
        assert [d.score for d in low] == sorted((d.score for d in low), reverse=True)
        assert unmatched([usual], [low]) == []
