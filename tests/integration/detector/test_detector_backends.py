"""Both backends on real photos: expected classes, reference boxes, batch equals singles."""

from __future__ import annotations

import pytest

from prelabel.detector_wire import Detection, encode_batch
from prelabel_detector.handler import LoadedModel, input_fn, predict_fn

# Determined once from each model on the PNG-encoded scikit-image photos, then frozen: a decoder
# change that moves boxes (letterbox, grid, scaling, id mapping) fails here.
REFERENCE = {
    "ssd-tf": {
        "astronaut": ("person", (11, 10, 370, 510)),
        "chelsea": ("cat", (9, 0, 408, 297)),
        "coffee": ("cup", (173, 13, 412, 240)),
        "stereo_motorcycle": ("motorcycle", (103, 65, 680, 445)),
    },
    "yolox-onnx": {
        "astronaut": ("person", (11, 20, 369, 507)),
        "chelsea": ("cat", (0, 0, 449, 300)),
        "coffee": ("cup", (162, 16, 421, 294)),
        "stereo_motorcycle": ("motorcycle", (110, 65, 710, 446)),
    },
}
# The PyTorch port runs the same weights: it must find the ONNX export's boxes.
REFERENCE["yolox-torch"] = REFERENCE["yolox-onnx"]
COCO_EXPECTED = {
    "000000000285": "bear",
    "000000000724": "stop sign",
    "000000000776": "teddy bear",
    "000000000802": "refrigerator",
}
REFERENCE_IDS = {"person": 0, "motorcycle": 3, "cat": 15, "cup": 41}
MIN_IOU = 0.9


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def detect(
    model: LoadedModel,
    images: list[bytes],
    score_floor: float | None = None,
    agnostic_nms: bool = False,
) -> list[list[Detection]]:
    body, content_type = encode_batch(images, score_floor=score_floor, agnostic_nms=agnostic_nms)
    results = predict_fn(input_fn(body, content_type), model).results
    assert all(r.error is None for r in results)
    return [r.detections for r in results]


@pytest.mark.parametrize("photo", ["astronaut", "chelsea", "coffee", "stereo_motorcycle"])
def test_expected_class_near_reference_box(
    model: LoadedModel, photos: dict[str, bytes], photo: str
) -> None:
    # Given a photo whose main object we know, and the box each model found for it
    class_name, reference = REFERENCE[model.descriptor.family][photo]
    # When the model detects objects in it
    (detections,) = detect(model, [photos[photo]], score_floor=0.3)
    # Then the best detection of that class overlaps the reference box tightly
    matches = [d for d in detections if d.class_name == class_name]
    assert matches, f"no {class_name} in {[d.class_name for d in detections]}"
    best = max(matches, key=lambda d: d.score)
    assert best.score > 0.5
    assert iou(best.box, reference) >= MIN_IOU, best.box
    assert best.class_id == REFERENCE_IDS[class_name]


def test_coco_photos_find_their_main_object(
    model: LoadedModel, coco_photos: dict[str, bytes]
) -> None:
    # Given COCO validation photos (JPEG, as the worker sends them) with one obvious object
    names = list(coco_photos)
    # When they are detected as one batch
    results = detect(model, [coco_photos[n] for n in names], score_floor=0.5)
    # Then each photo's object is among its detections, boxed inside the image
    for name, detections in zip(names, results, strict=True):
        assert COCO_EXPECTED[name] in {d.class_name for d in detections}, name
        for d in detections:
            assert 0 <= d.box[0] < d.box[2]
            assert 0 <= d.box[1] < d.box[3]


def test_batch_of_8_equals_8_single_calls(
    model: LoadedModel, photos: dict[str, bytes], coco_photos: dict[str, bytes]
) -> None:
    # Given 8 different photos of different sizes
    images = list(photos.values()) + list(coco_photos.values())
    assert len(images) == 8
    # When they are detected as one batch and one at a time
    batched = detect(model, images)
    singles = [detect(model, [image])[0] for image in images]
    # Then every image gets the same detections, in the same order, up to float noise
    for got, want in zip(batched, singles, strict=True):
        assert [d.class_id for d in got] == [d.class_id for d in want]
        for a, b in zip(got, want, strict=True):
            assert a.score == pytest.approx(b.score, abs=1e-3)
            assert a.box == pytest.approx(b.box, abs=0.5)


def test_score_floor_and_agnostic_nms_change_results(
    model: LoadedModel, photos: dict[str, bytes]
) -> None:
    # Given the coffee photo, where the same object reads as both cup and bowl or table
    image = photos["coffee"]
    # When it is detected with a low floor, a high floor, and class-agnostic NMS
    (low,) = detect(model, [image], score_floor=0.05)
    (high,) = detect(model, [image], score_floor=0.8)
    (agnostic,) = detect(model, [image], score_floor=0.05, agnostic_nms=True)
    # Then the floor drops weak boxes and agnostic NMS leaves no two boxes overlapping, even of
    # different classes (SSD calls the coffee both cup and bowl with nearly the same box)
    assert all(d.score >= 0.8 for d in high)
    assert len(high) < len(low)
    assert max_overlap(agnostic) <= 0.45
    assert {(d.class_id, d.box) for d in agnostic} <= {(d.class_id, d.box) for d in low}
    if model.descriptor.family == "ssd-tf":
        assert max_overlap(low) > 0.45
        assert len(agnostic) < len(low)
    assert [d.score for d in low] == sorted((d.score for d in low), reverse=True)


def max_overlap(detections: list[Detection]) -> float:
    pairs = [iou(a.box, b.box) for i, a in enumerate(detections) for b in detections[i + 1 :]]
    return max(pairs, default=0.0)
