"""The model artifact: what model.tar.gz holds, and that SageMaker's model_fn can load it."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from prelabel_detector.artifact import build_artifact, build_model_artifact
from prelabel_detector.descriptor import DescriptorError, bundled


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("artifact") / "model.tar.gz"
    return build_artifact(bundled("ssd_mobilenet_v2_coco.json"), out)


def test_artifact_holds_descriptor_weights_and_code(artifact: Path) -> None:
    # Given the artifact built for the SSD model (weights from an installed package)
    # When its members are listed
    with tarfile.open(artifact) as tar:
        names = set(tar.getnames())
        descriptor = json.loads(tar.extractfile("descriptor.json").read())  # type: ignore[union-attr]
        inference = tar.extractfile("code/inference.py").read().decode()  # type: ignore[union-attr]
    # Then it has the descriptor with local weight names, the weights, and the server code
    assert "weights_package" not in descriptor
    assert descriptor["weights"] == {
        "model": "frozen_inference_graph.pb",
        "config": "ssd_mobilenet_v2_coco_2018_03_29.pbtxt",
    }
    assert {"frozen_inference_graph.pb", "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"} <= names
    assert {
        "code/inference.py",
        "code/requirements.txt",
        "code/prelabel_detector/handler.py",
        "code/prelabel/detector_wire.py",
        "code/prelabel_detector/backends/ssd_tf.py",
    } <= names
    assert "model_fn" in inference
    assert not any("__pycache__" in n for n in names)


def test_artifact_loads_as_a_model_dir(artifact: Path, tmp_path: Path) -> None:
    # Given the artifact unpacked as SageMaker does into /opt/ml/model
    with tarfile.open(artifact) as tar:
        tar.extractall(tmp_path, filter="data")
    # When model_fn loads it
    from prelabel_detector.handler import model_fn

    model = model_fn(str(tmp_path))
    # Then the descriptor finds its weights inside the folder
    assert model.descriptor.name == "ssd-mobilenet-v2-coco"
    assert str(model.descriptor.weights["model"]).startswith(str(tmp_path))


def test_uploaded_model_artifact_holds_descriptor_and_file_only(tmp_path: Path) -> None:
    # Given a validated upload and its declaration
    onnx_file = tmp_path / "upload.onnx"
    onnx_file.write_bytes(b"weights")
    declared = {"family": "yolox", "input_size": [416, 416], "classes": ["a", "b"]}
    # When its multi-model artifact is built, named by the file's sha256
    out = build_model_artifact(onnx_file, declared, "parts", "ab12", tmp_path / "m.tar.gz")
    # Then it holds the descriptor (name, version, weights beside it) and the file, no code
    with tarfile.open(out) as tar:
        assert sorted(tar.getnames()) == ["descriptor.json", "model.onnx"]
        doc = json.loads(tar.extractfile("descriptor.json").read())  # type: ignore[union-attr]
    assert doc == {
        **declared,
        "name": "parts",
        "version": "ab12",
        "weights": {"model": "model.onnx"},
    }


def test_uploaded_model_artifact_refuses_a_declaration_the_server_would_refuse(
    tmp_path: Path,
) -> None:
    # Given a declaration with no class
    # When its artifact is built
    # Then nothing is written and the error names the field
    with pytest.raises(DescriptorError, match="classes"):
        build_model_artifact(
            tmp_path / "m.onnx",
            {"family": "yolox", "input_size": [416, 416], "classes": []},
            "parts",
            "ab12",
            tmp_path / "m.tar.gz",
        )
    assert not (tmp_path / "m.tar.gz").exists()
