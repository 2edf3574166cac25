"""model.tar.gz as SageMaker unpacks it into /opt/ml/model: descriptor, weights and code/."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prelabel import detector_wire
from prelabel_detector.descriptor import DESCRIPTOR_NAME, ONNX_DECODERS, Descriptor

PACKAGE_DIR = Path(__file__).resolve().parent
# The wire format is the Lambda layer's module; the container gets that same file.
WIRE_MODULE = Path(detector_wire.__file__)
# The inference toolkit imports code/inference.py; it only has to expose the four handlers.
INFERENCE_PY = (
    '"""SageMaker entry point: the model server lives in the prelabel_detector package."""\n\n'
    "from prelabel_detector.handler import input_fn, model_fn, output_fn, predict_fn\n\n"
    '__all__ = ["input_fn", "model_fn", "output_fn", "predict_fn"]\n'
)
# Installed by the container at start-up, per backend. The PyTorch inference container already
# has torch, torchvision, numpy and Pillow; the ONNX backend needs ONNX Runtime's GPU build and
# the onnx package (it reads every file before the runtime does).
ONNX_REQUIREMENTS = (
    "numpy>=2\nonnx>=1.17\nonnxruntime-gpu>=1.20\nopencv-python-headless>=4.10\npillow>=11\n"
)
REQUIREMENTS = {
    "yolox-torch": "opencv-python-headless>=4.10\n",
    "ssd-tf": "numpy>=2\nopencv-python-headless>=4.10\npillow>=11\n",
    **{family: ONNX_REQUIREMENTS for family in ONNX_DECODERS},
}
# An uploaded model's artifact on a multi-model endpoint: the container image has the code.
UPLOADED_WEIGHTS = "model.onnx"


def build_artifact(
    descriptor_path: Path, out_path: Path, weights_dir: Path | None = None, code: bool = True
) -> Path:
    """model.tar.gz; `code=False` leaves out code/ (a multi-model endpoint's image has it)."""
    descriptor = Descriptor.load(descriptor_path, weights_dir)
    missing = descriptor.missing_weights()
    if missing:
        raise FileNotFoundError(f"weights not found: {', '.join(map(str, missing))}")
    doc = json.loads(descriptor_path.read_text())
    doc.pop("weights_package", None)
    # Weights sit next to the descriptor inside the artifact, whatever their source layout.
    doc["weights"] = {key: path.name for key, path in descriptor.weights.items()}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out_path, "w:gz") as tar:
        _add_bytes(tar, DESCRIPTOR_NAME, json.dumps(doc, indent=2).encode())
        for path in descriptor.weights.values():
            tar.add(path, arcname=path.name)
        if code:
            _add_code(tar, descriptor.family)
    return out_path


def _add_code(tar: tarfile.TarFile, family: str) -> None:
    _add_bytes(tar, "code/inference.py", INFERENCE_PY.encode())
    _add_bytes(tar, "code/requirements.txt", REQUIREMENTS[family].encode())
    _add_bytes(tar, "code/prelabel/__init__.py", b"")
    tar.add(WIRE_MODULE, arcname="code/prelabel/detector_wire.py")
    for source in sorted(PACKAGE_DIR.rglob("*")):
        if source.is_file() and source.suffix in (".py", ".json", ".typed"):
            relative = source.relative_to(PACKAGE_DIR.parent)
            tar.add(source, arcname=f"code/{relative.as_posix()}")


def build_model_artifact(
    onnx_path: Path, declared: Mapping[str, Any], name: str, version: str, out_path: Path
) -> Path:
    """model.tar.gz of an uploaded, validated model: descriptor.json beside model.onnx.

    `declared` is what validation checked (family, input_size, classes, normalisation);
    `version` is the file's sha256, so a new file is a new artifact. SageMaker unpacks this
    under /opt/ml/models/<name>/model and the container loads it from there.
    """
    doc = {**declared, "name": name, "version": version, "weights": {"model": UPLOADED_WEIGHTS}}
    # The descriptor must read back as one the server loads (it refuses what it cannot serve).
    Descriptor.from_dict(doc, onnx_path.parent)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out_path, "w:gz") as tar:
        _add_bytes(tar, DESCRIPTOR_NAME, json.dumps(doc, indent=2).encode())
        tar.add(onnx_path, arcname=UPLOADED_WEIGHTS)
    return out_path


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
