"""model.tar.gz as SageMaker unpacks it into /opt/ml/model: descriptor, weights and code/."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from prelabel import detector_wire
from prelabel_detector.descriptor import DESCRIPTOR_NAME, Descriptor

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
# has torch, torchvision, numpy and Pillow; the ONNX backend needs ONNX Runtime's GPU build.
REQUIREMENTS = {
    "yolox-torch": "opencv-python-headless>=4.10\n",
    "yolox-onnx": "numpy>=2\nonnxruntime-gpu>=1.20\nopencv-python-headless>=4.10\npillow>=11\n",
    "ssd-tf": "numpy>=2\nopencv-python-headless>=4.10\npillow>=11\n",
}


def build_artifact(descriptor_path: Path, out_path: Path, weights_dir: Path | None = None) -> Path:
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
        _add_bytes(tar, "code/inference.py", INFERENCE_PY.encode())
        _add_bytes(tar, "code/requirements.txt", REQUIREMENTS[descriptor.family].encode())
        _add_bytes(tar, "code/prelabel/__init__.py", b"")
        tar.add(WIRE_MODULE, arcname="code/prelabel/detector_wire.py")
        for source in sorted(PACKAGE_DIR.rglob("*")):
            if source.is_file() and source.suffix in (".py", ".json", ".typed"):
                relative = source.relative_to(PACKAGE_DIR.parent)
                tar.add(source, arcname=f"code/{relative.as_posix()}")
    return out_path


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
