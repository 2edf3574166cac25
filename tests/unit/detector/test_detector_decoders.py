"""Family decoders: which layout a model's outputs are read as, and the reasons they are refused."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from prelabel_detector.decoders import OutputInfo, OutputMismatchError, decoder_for
from prelabel_detector.decoders.ultralytics import V5, V8
from prelabel_detector.descriptor import Descriptor
from prelabel_detector.geometry import Geometry


def descriptor(family: str, classes: int, size: int = 640) -> Descriptor:
    doc = {
        "name": "m",
        "version": "1",
        "family": family,
        "input_size": [size, size],
        "classes": [f"class-{i}" for i in range(classes)],
        "weights": {"model": "model.onnx"},
    }
    return Descriptor.from_dict(doc, Path("/models"))


def out(name: str, *shape: int | str | None, dtype: str = "float32") -> OutputInfo:
    return OutputInfo(name, tuple(shape), dtype)


@pytest.mark.parametrize(
    ("shape", "classes", "layout"),
    [
        ((1, 84, 8400), 80, V8),
        ((1, 7, 8400), 3, V8),
        ((1, 25200, 85), 80, V5),
        ((1, 25200, 8), 3, V5),
        (("batch", 84, "anchors"), 80, V8),
        (("batch", "anchors", 8), 3, V5),
    ],
)
def test_ultralytics_layout_follows_from_shape_and_class_count(
    shape: tuple[int | str, ...], classes: int, layout: str
) -> None:
    # Given an ultralytics export's output shape and the class count its uploader declared
    # When the decoder checks the outputs
    decoder = decoder_for(descriptor("ultralytics", classes), [out("output0", *shape)])
    # Then it reads the layout the shape means for that count
    assert decoder.layout == layout


@pytest.mark.parametrize(
    ("shape", "classes", "message"),
    [
        (
            (1, 84, 8400),
            3,
            "output 1x84x8400 fits 80 classes (YOLOv8 layout), the model declares 3",
        ),
        (
            (1, 25200, 85),
            3,
            "output 1x25200x85 fits 80 classes (YOLOv5 layout), the model declares 3",
        ),
        ((1, 84, "n"), 3, "output 1x84x? fits 80 classes (YOLOv8 layout), the model declares 3"),
        ((1, 84, 85), 80, "reads both as YOLOv5 and as YOLOv8"),
        ((1, 84), 80, "is not YOLOv5"),
    ],
)
def test_ultralytics_outputs_that_do_not_fit_say_why(
    shape: tuple[int | str, ...], classes: int, message: str
) -> None:
    # Given an output that does not fit the declared class count (or no layout at all)
    # When the decoder checks it
    # Then it refuses with what the output fits and what was declared
    with pytest.raises(OutputMismatchError, match=re.escape(message)):
        decoder_for(descriptor("ultralytics", classes), [out("output0", *shape)])


def test_yolox_output_is_checked_against_the_grid_and_class_count() -> None:
    # Given a YOLOX model declared at 416x416 (3,549 anchors) with 3 classes
    declared = descriptor("yolox", 3, size=416)
    # When its output has 80 classes, or the anchors of another input size
    # Then each is refused with the figures that disagree
    with pytest.raises(OutputMismatchError, match="output 1x3549x85 fits 80 classes, the model"):
        decoder_for(declared, [out("output", 1, 3549, 85)])
    with pytest.raises(
        OutputMismatchError, match="8400 anchors; a YOLOX model at 416x416 has 3549"
    ):
        decoder_for(declared, [out("output", 1, 8400, 8)])
    assert decoder_for(declared, [out("output", 1, 3549, 8)]).batched


def test_yolox_decodes_a_grid_cell_into_image_pixels() -> None:
    # Given a 416x416 YOLOX model with 2 classes and one confident anchor: cell (1, 0) of stride 8
    decoder = decoder_for(descriptor("yolox", 2, size=416), [out("output", 1, 3549, 7)])
    raw = np.zeros((1, 3549, 7), dtype=np.float32)
    raw[0, 1] = [0.5, 0.5, np.log(2.0), np.log(4.0), 0.9, 0.1, 0.8]
    # When it is decoded for an image shown at half size (scale 0.5)
    (found,) = decoder.decode([raw], [Geometry(832, 832, 0.5, 0.5)])
    # Then the box is centred on (12, 4) input pixels, 16x32, i.e. doubled in the image
    best = int(found.scores.argmax())
    assert found.class_ids[best] == 1
    assert found.scores[best] == pytest.approx(0.72)
    np.testing.assert_allclose(found.boxes[best], [8.0, -24.0, 40.0, 40.0], atol=1e-4)
    assert not found.nms_done


def test_ultralytics_v8_scores_are_class_scores_and_v5_multiplies_objectness() -> None:
    # Given one anchor at (100, 50), 20x10, class scores (0.2, 0.6), objectness 0.5 for v5
    v8 = decoder_for(descriptor("ultralytics", 2), [out("output0", 1, 6, 1)])
    v5 = decoder_for(descriptor("ultralytics", 2), [out("output0", 1, 1, 7)])
    geometry = Geometry(640, 640, 1.0, 1.0)
    # When both layouts are decoded
    (a,) = v8.decode([np.array([[[100], [50], [20], [10], [0.2], [0.6]]], np.float32)], [geometry])
    (b,) = v5.decode([np.array([[[100, 50, 20, 10, 0.5, 0.2, 0.6]]], np.float32)], [geometry])
    # Then both give the corners; v8 scores the class as is, v5 times the objectness
    np.testing.assert_allclose(a.boxes[0], [90, 45, 110, 55])
    np.testing.assert_allclose(b.boxes[0], [90, 45, 110, 55])
    assert (a.class_ids[0], b.class_ids[0]) == (1, 1)
    assert a.scores[0] == pytest.approx(0.6)
    assert b.scores[0] == pytest.approx(0.3)


def test_boxes_scores_labels_finds_roles_by_name_then_by_type() -> None:
    # Given three-output exports named as torchvision does, and unnamed with integer labels
    declared = descriptor("boxes-scores-labels", 3)
    named = [out("labels", "K", dtype="int64"), out("boxes", "K", 4), out("scores", "K")]
    unnamed = [out("a", 1, "K"), out("b", 1, "K", dtype="int64"), out("c", 1, "K", 4)]
    geometry = Geometry(100, 100, 2.0, 2.0)
    # When each is decoded
    (first,) = decoder_for(declared, named).decode(
        [np.array([2]), np.array([[10.0, 20, 30, 40]]), np.array([0.7], np.float32)], [geometry]
    )
    batched = decoder_for(declared, unnamed)
    (second,) = batched.decode(
        [np.array([[0.7]], np.float32), np.array([[2]]), np.array([[[10.0, 20, 30, 40]]])],
        [geometry],
    )
    # Then both read the same box (halved back into the image), score and label
    for found in (first, second):
        np.testing.assert_allclose(found.boxes, [[5, 10, 15, 20]])
        assert found.scores.tolist() == pytest.approx([0.7])
        assert found.class_ids.tolist() == [2]
        assert found.nms_done
    assert batched.batched and not decoder_for(declared, named).batched


def test_boxes_scores_labels_drops_labels_outside_the_declared_classes() -> None:
    # Given a one-output (K x 6) model declared with 3 classes that answers labels 1, 7 and -1
    decoder = decoder_for(descriptor("boxes-scores-labels", 3), [out("dets", 1, "K", 6)])
    rows = np.array([[[0, 0, 5, 5, 0.9, 1], [0, 0, 6, 6, 0.8, 7], [0, 0, 0, 0, 0, -1]]], np.float32)
    # When it is decoded
    (found,) = decoder.decode([rows], [Geometry(10, 10, 1.0, 1.0)])
    # Then only the known label stays, and the others are counted
    assert found.class_ids.tolist() == [1]
    assert found.out_of_range == 2


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ([out("x", 1, "K"), out("y", 1, "K"), out("z", 1, "K", 4)], "cannot tell boxes, scores"),
        ([out("boxes", "K", 3), out("scores", "K"), out("labels", "K")], "4 values per box"),
        ([out("dets", 1, "K", 7)], "6 values per box"),
        ([out("a", 1), out("b", 1), out("c", 1), out("d", 1)], "this one has 4 outputs"),
    ],
)
def test_boxes_scores_labels_refuses_other_layouts(outputs: list[OutputInfo], message: str) -> None:
    # Given outputs in none of the accepted layouts
    # When the decoder checks them
    # Then it refuses and says what it expected
    with pytest.raises(OutputMismatchError, match=message):
        decoder_for(descriptor("boxes-scores-labels", 3), outputs)
