"""Uploaded families against the yolox backend: the same network re-emitted in each layout.

The models come from tests/model_files.py (the shared YOLOX-Nano with nodes appended), so
every family must find what the yolox backend finds on the shared COCO photos.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from prelabel.detector_wire import Detection, encode_batch
from prelabel_detector.descriptor import Descriptor, bundled
from prelabel_detector.handler import LoadedModel, input_fn, load_model, predict_fn
from tests.integration.detector.conftest import COCO_DIR, YOLOX_DIR
from tests.integration.detector.test_detector_backends import iou
from tests.model_files import CUSTOM_KEEP, build, declaration, rectangle_finder, write_model_dir

FLOOR = 0.05
MIN_IOU = 0.99


@pytest.fixture(scope="module")
def all_photos() -> list[bytes]:
    files = sorted(COCO_DIR.glob("*.jpg"))
    if not files or not (YOLOX_DIR / "yolox_nano.onnx").is_file():
        pytest.skip("the shared COCO photos or yolox_nano.onnx are not present")
    return [f.read_bytes() for f in files]


@pytest.fixture(scope="module")
def family_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], LoadedModel]:
    loaded: dict[str, LoadedModel] = {}
    root = tmp_path_factory.mktemp("families")

    def load(name: str) -> LoadedModel:
        if name not in loaded:
            folder = write_model_dir(root / name, build(name), declaration(name), name, "v1")
            loaded[name] = load_model(Descriptor.load(folder / "descriptor.json"))
        return loaded[name]

    return load


def detect_all(model: LoadedModel, photos: list[bytes], floor: float) -> list[list[Detection]]:
    found: list[list[Detection]] = []
    for start in range(0, len(photos), 8):
        body, content_type = encode_batch(photos[start : start + 8], score_floor=floor)
        results = predict_fn(input_fn(body, content_type), model).results
        assert all(r.error is None for r in results)
        found.extend(r.detections for r in results)
    return found


def unmatched(reference: list[Detection], other: list[Detection]) -> list[Detection]:
    return [
        d
        for d in reference
        if not any(o.class_id == d.class_id and iou(o.box, d.box) >= MIN_IOU for o in other)
    ]


@pytest.mark.parametrize(
    "family",
    ["ultralytics-v5", "ultralytics-v8", "boxes-scores-labels", "boxes-scores-labels-one-output"],
)
def test_each_family_finds_what_the_yolox_backend_finds(
    family_model: Callable[[str], LoadedModel], all_photos: list[bytes], family: str
) -> None:
    # Given the same network as a yolox model and re-emitted in another family's layout
    reference = detect_all(family_model("yolox"), all_photos, FLOOR)
    # When both detect objects on the 40 shared COCO photos at the same low score floor
    found = detect_all(family_model(family), all_photos, FLOOR)
    # Then every photo has the same number of boxes, each of the same class at IoU >= 0.99
    assert sum(len(r) for r in reference) > 200
    for ref, got in zip(reference, found, strict=True):
        assert len(got) == len(ref)
        assert unmatched(ref, got) == []


def test_the_builtin_yolox_onnx_alias_is_the_yolox_family(
    family_model: Callable[[str], LoadedModel], all_photos: list[bytes]
) -> None:
    # Given the built-in descriptor (family yolox-onnx) and an upload of the same file as yolox
    builtin = load_model(Descriptor.load(bundled("yolox_nano.json"), YOLOX_DIR))
    # When both detect on the photos
    # Then they answer exactly the same
    assert detect_all(builtin, all_photos[:8], 0.25) == detect_all(
        family_model("yolox"), all_photos[:8], 0.25
    )


def test_custom_class_model_answers_only_its_classes_under_their_names(
    family_model: Callable[[str], LoadedModel], all_photos: list[bytes]
) -> None:
    # Given a model that keeps 3 of the 80 classes (person, truck, chair) under new names
    custom = family_model("custom-classes")
    # When it and the yolox model detect on the photos at 0.3
    found = detect_all(custom, all_photos, 0.3)
    reference = detect_all(family_model("yolox"), all_photos, 0.3)
    # Then it names only its own three classes, by their index in its list
    names = list(CUSTOM_KEEP.values())
    assert {(d.class_id, d.class_name) for image in found for d in image} == set(enumerate(names))
    # and finds the yolox model's boxes of those classes, and nothing else
    renamed = {coco: index for index, coco in enumerate(CUSTOM_KEEP)}
    for ref, got in zip(reference, found, strict=True):
        kept = [
            Detection(renamed[d.class_id], names[renamed[d.class_id]], d.score, d.box)
            for d in ref
            if d.class_id in renamed
        ]
        assert unmatched(kept, got) == []
        assert unmatched(got, kept) == []


@pytest.mark.parametrize("resize", ["letterbox-top-left", "letterbox-center", "stretch"])
def test_declared_resize_places_the_image_and_maps_boxes_back(tmp_path: Path, resize: str) -> None:
    # Given a model that answers the box of the bright pixels on its 320x256 input, declared
    # with one of the resize modes, and photos with a white rectangle at a known place
    declared = {
        "family": "boxes-scores-labels",
        "input_size": [320, 256],
        "classes": ["bright"],
        "normalisation": {"resize": resize, "pad": 0},
    }
    folder = write_model_dir(
        tmp_path, rectangle_finder().SerializeToString(), declared, "finder", "v1"
    )
    model = load_model(Descriptor.load(folder / "descriptor.json"))
    cases = [((900, 480), (250, 100, 700, 300)), ((300, 700), (20, 50, 200, 650))]
    for (width, height), truth in cases:
        image = np.zeros((height, width, 3), dtype=np.uint8)
        image[truth[1] : truth[3], truth[0] : truth[2]] = 255
        png = cv2.imencode(".png", image)[1].tobytes()
        # When the backend runs the model on it
        ((box,),) = detect_all(model, [png], 0.5)
        # Then the box comes back on the rectangle, within about one input pixel
        scale = min(320 / width, 256 / height)
        np.testing.assert_allclose(box.box, truth, atol=1.0 / scale + 0.5)
