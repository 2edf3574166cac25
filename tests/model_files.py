"""ONNX files for tests and benchmarks, built with the `onnx` package (and numpy) only.

The family models are the shared YOLOX-Nano re-emitted in each family's output layout by
appending nodes to its graph (grid decoding, objectness x class, a transpose for YOLOv8,
NonMaxSuppression inside for boxes-scores-labels), so every family must find the boxes the
`yolox` backend finds. Some also take their input the way such exports usually do (RGB in
0..1, or ImageNet mean/std) through nodes prepended to undo it, which exercises the declared
normalisation. The hostile files are what a validation job must refuse without harm.

    from tests.model_files import FAMILY_MODELS, build, declaration
    data = build("ultralytics-v8")            # bytes of the .onnx file
    declared = declaration("ultralytics-v8")  # what an uploader would declare for it
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SOURCE = (
    Path(__file__).resolve().parents[2] / "shared" / "models" / "yolox-nano" / "yolox_nano.onnx"
)
SIZE = 416
STRIDES = (8, 16, 32)
COCO_CLASSES = 80
# The custom-class model keeps three COCO classes under new names.
CUSTOM_KEEP = {0: "worker", 7: "forklift", 56: "pallet"}
RGB_UNIT = {"mean": [0, 0, 0], "scale": 1 / 255, "channels": "RGB"}
IMAGENET = {
    "mean": [123.675, 116.28, 103.53],
    "scale": [1 / 58.395, 1 / 57.12, 1 / 57.375],
    "channels": "RGB",
}
RAW_BGR = {"mean": [0, 0, 0], "scale": 1.0, "channels": "BGR"}
# The graph NMS of the boxes-scores-labels models: what the yolox backend uses by default.
NMS_IOU = 0.45
NMS_MAX_PER_CLASS = 100
NMS_SCORE_FLOOR = 0.01


def source() -> onnx.ModelProto:
    return onnx.load(str(SOURCE))


def _const(name: str, value: Any, dtype: Any = np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    cells, strides = [], []
    for stride in STRIDES:
        side = SIZE // stride
        ys, xs = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
        cells.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        strides.append(np.full((side * side, 1), stride))
    return np.concatenate(cells)[None].astype(np.float32), np.concatenate(strides)[None].astype(
        np.float32
    )


class _Graph:
    """Appends nodes and constants to a model's graph and replaces its outputs."""

    def __init__(self, model: onnx.ModelProto, prefix: str = "pl") -> None:
        self.model = model
        self.graph = model.graph
        self.prefix = prefix
        self._count = 0

    def const(self, value: Any, dtype: Any = np.float32) -> str:
        self._count += 1
        name = f"{self.prefix}_const_{self._count}"
        self.graph.initializer.append(_const(name, value, dtype))
        return name

    def node(self, op: str, inputs: Sequence[str], **attrs: Any) -> str:
        self._count += 1
        out = f"{self.prefix}_{op.lower()}_{self._count}"
        self.graph.node.append(helper.make_node(op, list(inputs), [out], **attrs))
        return out

    def slice(self, data: str, start: int, end: int, axis: int) -> str:
        return self.node(
            "Slice",
            [data, self.const([start], np.int64), self.const([end], np.int64),
             self.const([axis], np.int64)],
        )  # fmt: skip

    def outputs(self, named: dict[str, tuple[str, int, list[Any]]]) -> onnx.ModelProto:
        """Replace the graph's outputs: {name: (tensor, element type, shape)}."""
        del self.graph.output[:]
        for name, (tensor, elem_type, shape) in named.items():
            self.graph.node.append(helper.make_node("Identity", [tensor], [name]))
            self.graph.output.append(helper.make_tensor_value_info(name, elem_type, shape))
        onnx.checker.check_model(self.model)
        return self.model


def _decoded(g: _Graph, keep: Sequence[int] | None) -> tuple[str, str, str, str]:
    """The raw grid output -> centres, sizes (input pixels), objectness, class probabilities."""
    grid, strides = _grid()
    raw = "output"
    centre = g.node("Mul", [g.node("Add", [g.slice(raw, 0, 2, 2), g.const(grid)]),
                            g.const(strides)])  # fmt: skip
    size = g.node("Mul", [g.node("Exp", [g.slice(raw, 2, 4, 2)]), g.const(strides)])
    objectness = g.slice(raw, 4, 5, 2)
    classes = g.slice(raw, 5, 5 + COCO_CLASSES, 2)
    if keep is not None:
        classes = g.node("Gather", [classes, g.const(list(keep), np.int64)], axis=2)
    return centre, size, objectness, classes


def _normalised_input(model: onnx.ModelProto, norm: dict[str, Any]) -> None:
    """The network takes raw BGR 0..255: prepend what undoes the declared normalisation."""
    if norm == RAW_BGR:
        return
    original = list(model.graph.node)
    g = _Graph(model, "pl_input")
    scale = np.broadcast_to(np.asarray(norm["scale"], np.float32), (3,)).reshape(1, 3, 1, 1)
    mean = np.asarray(norm["mean"], np.float32).reshape(1, 3, 1, 1)
    pixels = g.node("Add", [g.node("Div", ["images", g.const(scale)]), g.const(mean)])
    if norm["channels"] == "RGB":
        pixels = g.node("Gather", [pixels, g.const([2, 1, 0], np.int64)], axis=1)
    prepended = list(model.graph.node[len(original) :])
    for node in original:
        node.input[:] = [pixels if name == "images" else name for name in node.input]
    del model.graph.node[:]
    model.graph.node.extend(prepended + original)
    onnx.checker.check_model(model)


def yolox_model() -> onnx.ModelProto:
    return source()


def ultralytics_v5(norm: dict[str, Any] = RGB_UNIT) -> onnx.ModelProto:
    model = source()
    g = _Graph(model)
    centre, size, objectness, classes = _decoded(g, None)
    out = g.node("Concat", [centre, size, objectness, classes], axis=2)
    g.outputs({"output0": (out, TensorProto.FLOAT, [1, 3549, 5 + COCO_CLASSES])})
    _normalised_input(model, norm)
    return model


def ultralytics_v8(
    keep: Sequence[int] | None = None, norm: dict[str, Any] = RGB_UNIT
) -> onnx.ModelProto:
    model = source()
    g = _Graph(model)
    centre, size, objectness, classes = _decoded(g, keep)
    scores = g.node("Mul", [objectness, classes])
    out = g.node("Transpose", [g.node("Concat", [centre, size, scores], axis=2)], perm=[0, 2, 1])
    count = len(keep) if keep is not None else COCO_CLASSES
    g.outputs({"output0": (out, TensorProto.FLOAT, [1, 4 + count, 3549])})
    _normalised_input(model, norm)
    return model


def boxes_scores_labels(layout: str = "three", norm: dict[str, Any] = IMAGENET) -> onnx.ModelProto:
    """NMS inside the graph, on each anchor's best class (as the yolox backend ranks them)."""
    model = source()
    g = _Graph(model)
    centre, size, objectness, classes = _decoded(g, None)
    half = g.node("Mul", [size, g.const(0.5)])
    boxes = g.node("Concat", [g.node("Sub", [centre, half]), g.node("Add", [centre, half])], axis=2)
    scores = g.node("Mul", [objectness, classes])
    best = g.node("ReduceMax", [scores], axes=[2], keepdims=1)
    is_best = g.node("Cast", [g.node("Equal", [scores, best])], to=TensorProto.FLOAT)
    per_class = g.node("Transpose", [g.node("Mul", [scores, is_best])], perm=[0, 2, 1])
    selected = g.node(
        "NonMaxSuppression",
        [boxes, per_class, g.const([NMS_MAX_PER_CLASS], np.int64), g.const([NMS_IOU]),
         g.const([NMS_SCORE_FLOOR])],
    )  # fmt: skip
    labels = g.node("Squeeze", [g.slice(selected, 1, 2, 1)], axes=[1])
    anchor = g.node("Squeeze", [g.slice(selected, 2, 3, 1)], axes=[1])
    kept_boxes = g.node("Gather", [g.node("Squeeze", [boxes], axes=[0]), anchor], axis=0)
    kept_scores = g.node("GatherND", [per_class, selected])
    if layout == "three":
        g.outputs(
            {
                "boxes": (kept_boxes, TensorProto.FLOAT, ["K", 4]),
                "scores": (kept_scores, TensorProto.FLOAT, ["K"]),
                "labels": (labels, TensorProto.INT64, ["K"]),
            }
        )
    else:
        columns = [
            kept_boxes,
            g.node("Unsqueeze", [kept_scores], axes=[1]),
            g.node("Unsqueeze", [g.node("Cast", [labels], to=TensorProto.FLOAT)], axes=[1]),
        ]
        rows = g.node("Unsqueeze", [g.node("Concat", columns, axis=1)], axes=[0])
        g.outputs({"detections": (rows, TensorProto.FLOAT, [1, "K", 6])})
    _normalised_input(model, norm)
    return model


def rectangle_finder(width: int = 320, height: int = 256) -> onnx.ModelProto:
    """A boxes-scores-labels model that answers the box around the pixels brighter than 200.

    Its box is exact in input pixels, so what comes back in image pixels shows whether the
    backend placed the image on the input and mapped boxes back as the declared resize says.
    """
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, height, width])
    model = helper.make_model(
        helper.make_graph([], "rectangle-finder", [image], []),
        opset_imports=[helper.make_opsetid("", 11)],
    )
    model.ir_version = 7
    g = _Graph(model)
    bright = g.node("Cast", [g.node("Greater", [g.slice("images", 0, 1, 1), g.const(200.0)])],
                    to=TensorProto.FLOAT)  # fmt: skip
    edges = []
    for axes, side in (([0, 1, 2], width), ([0, 1, 3], height)):
        profile = g.node("ReduceMax", [bright], axes=axes, keepdims=0)
        first = g.node("ArgMax", [profile], axis=0, keepdims=1)
        backwards = g.node(
            "Slice",
            [profile, g.const([side - 1], np.int64), g.const([-side - 1], np.int64),
             g.const([0], np.int64), g.const([-1], np.int64)],
        )  # fmt: skip
        after_last = g.node("Sub", [g.const([side], np.int64),
                                    g.node("ArgMax", [backwards], axis=0, keepdims=1)])  # fmt: skip
        edges.append((first, after_last))
    (x1, x2), (y1, y2) = edges
    floats = [g.node("Cast", [v], to=TensorProto.FLOAT) for v in (x1, y1, x2, y2)]
    row = g.node("Concat", [*floats, g.const([1.0]), g.const([0.0])], axis=0)
    out = g.node("Unsqueeze", [row], axes=[0, 1])
    return g.outputs({"detections": (out, TensorProto.FLOAT, [1, 1, 6])})


# name -> (builder, declared family, declared normalisation, class names)
FAMILY_MODELS: dict[str, tuple[Callable[[], onnx.ModelProto], str, dict[str, Any], Any]] = {
    "yolox": (yolox_model, "yolox", RAW_BGR, "coco80"),
    "ultralytics-v5": (ultralytics_v5, "ultralytics", RGB_UNIT, "coco80"),
    "ultralytics-v8": (ultralytics_v8, "ultralytics", RGB_UNIT, "coco80"),
    "boxes-scores-labels": (boxes_scores_labels, "boxes-scores-labels", IMAGENET, "coco80"),
    "boxes-scores-labels-one-output": (
        lambda: boxes_scores_labels("one"),
        "boxes-scores-labels",
        IMAGENET,
        "coco80",
    ),
    "custom-classes": (
        lambda: ultralytics_v8(keep=list(CUSTOM_KEEP)),
        "ultralytics",
        RGB_UNIT,
        list(CUSTOM_KEEP.values()),
    ),
}


def build(name: str) -> bytes:
    return FAMILY_MODELS[name][0]().SerializeToString()


def declaration(name: str, **changes: Any) -> dict[str, Any]:
    """What an uploader declares for a model of FAMILY_MODELS (YOLOX letterbox: top-left)."""
    _, family, norm, classes = FAMILY_MODELS[name]
    doc = {
        "family": family,
        "input_size": [SIZE, SIZE],
        "classes": classes,
        "normalisation": {**norm, "resize": "letterbox-top-left"},
    }
    return {**doc, **changes}


def write_model_dir(
    folder: Path, data: bytes, declared: dict[str, Any], name: str, version: str
) -> Path:
    """A model folder as the server loads it: descriptor.json beside model.onnx."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(data)
    doc = {**declared, "name": name, "version": version, "weights": {"model": "model.onnx"}}
    (folder / "descriptor.json").write_text(json.dumps(doc))
    return folder


# Hostile and broken files: each must end FAILED, with its reason, and harm nothing.

TINY_ANCHORS = 3549


def tiny(width: int = SIZE, height: int = SIZE, classes: int = COCO_CLASSES) -> onnx.ModelProto:
    """A valid yolox-layout model that answers zeros: quick to load, a base for the bad ones."""
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, height, width])
    model = helper.make_model(
        helper.make_graph([], "tiny", [image], []), opset_imports=[helper.make_opsetid("", 11)]
    )
    model.ir_version = 7
    g = _Graph(model, "tiny")
    zero = g.node("Mul", [g.node("ReduceMean", ["images"], keepdims=0), g.const(0.0)])
    out = g.node("Expand", [zero, g.const([1, TINY_ANCHORS, 5 + classes], np.int64)])
    model.graph.node.append(helper.make_node("Identity", [out], ["pre_output"]))
    model.graph.node.append(helper.make_node("Identity", ["pre_output"], ["output"]))
    model.graph.output.append(
        helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, TINY_ANCHORS, 5 + classes])
    )
    return model


def _before_output(model: onnx.ModelProto, op: str, extra: list[str], **attrs: Any) -> None:
    """Insert `op(pre_output, *extra)` just before the graph's output."""
    last = model.graph.node[-1]
    model.graph.node.insert(
        len(model.graph.node) - 1,
        helper.make_node(op, ["pre_output", *extra], ["hostile"], **attrs),
    )
    last.input[:] = ["hostile"]


def custom_op() -> bytes:
    model = tiny()
    model.opset_import.append(helper.make_opsetid("com.example.evil", 1))
    _before_output(model, "Exfiltrate", [], domain="com.example.evil")
    return model.SerializeToString()


def external_data(location: str = "../../etc/passwd") -> bytes:
    model = tiny()
    weight = TensorProto(name="stolen", data_type=TensorProto.FLOAT, dims=[1])
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "4")):
        weight.external_data.add(key=key, value=value)
    model.graph.initializer.append(weight)
    _before_output(model, "Add", ["stolen"])
    return model.SerializeToString()


def huge_initializer(values: int = 1 << 29) -> bytes:
    """A float tensor declaring `values` values (2 GiB by default) while the file holds 16 bytes."""
    model = tiny()
    model.graph.initializer.append(
        TensorProto(name="huge", data_type=TensorProto.FLOAT, dims=[values], raw_data=bytes(16))
    )
    total = helper.make_node("ReduceSum", ["huge"], ["huge_sum"], keepdims=0)
    model.graph.node.insert(0, total)
    _before_output(model, "Add", ["huge_sum"])
    return model.SerializeToString()


def sleeper(iterations: int = 1 << 62) -> bytes:
    """A Loop that counts to `iterations` on a value taken from the image: never folded away."""
    model = tiny()
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["value_in", "one"], ["value_out"]),
        ],
        "count",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("value_in", TensorProto.FLOAT, []),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("value_out", TensorProto.FLOAT, []),
        ],
        [_const("one", 1.0)],
    )
    model.graph.initializer.extend(
        [_const("trips", iterations, np.int64), _const("go", True, np.bool_)]
    )
    start = helper.make_node("ReduceMean", ["images"], ["start"], keepdims=0)
    loop = helper.make_node("Loop", ["trips", "go", "start"], ["counted"], body=body)
    model.graph.node.insert(0, start)
    model.graph.node.insert(1, loop)
    _before_output(model, "Add", ["counted"])
    return model.SerializeToString()


def memory_hog(values: int = 1 << 30) -> bytes:
    """Allocates `values` floats (4 GiB by default) at run time, sized from the image."""
    model = tiny()
    g = _Graph(model, "hog")
    nothing = g.node("Cast", [g.node("Mul", [g.node("ReduceMean", ["images"], keepdims=1),
                                             g.const(0.0)])], to=TensorProto.INT64)  # fmt: skip
    shape = g.node("Add", [g.node("Reshape", [nothing, g.const([1], np.int64)]),
                           g.const([values], np.int64)])  # fmt: skip
    total = g.node("ReduceSum", [g.node("ConstantOfShape", [shape])], keepdims=0)
    added = list(model.graph.node[-7:])
    del model.graph.node[-7:]
    for offset, node in enumerate(added):
        model.graph.node.insert(offset, node)
    _before_output(model, "Add", [total])
    return model.SerializeToString()


HOSTILE_FILES: dict[str, Callable[[], bytes]] = {
    "text": lambda: b"this is not a model, just text saved as model.onnx\n" * 20,
    "truncated": lambda: SOURCE.read_bytes()[: SOURCE.stat().st_size // 2],
    "custom-op": custom_op,
    "external-data": external_data,
    "huge-initializer": huge_initializer,
    "wrong-input-size": lambda: tiny(width=320, height=320).SerializeToString(),
    "sleeper": sleeper,
    "memory-hog": memory_hog,
}
