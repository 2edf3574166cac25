"""What an ONNX file holds, read with the `onnx` package before ONNX Runtime ever sees it.

Refuses what could make a runtime read outside the file or allocate what the file only
declares: operators outside the standard domains (custom op libraries), tensors whose data
lives in an external file (never opened here), and tensors whose declared size is over the
limit or differs from what the file stores.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper

from prelabel_detector.decoders.base import Dim, OutputInfo

STANDARD_DOMAINS = ("", "ai.onnx", "ai.onnx.ml")
# Tensor types packed two values to a byte.
PACKED_4BIT = {
    getattr(onnx.TensorProto, name)
    for name in ("INT4", "UINT4", "FLOAT4E2M1")
    if hasattr(onnx.TensorProto, name)
}
DEFAULT_MAX_TENSOR_BYTES = 1 << 30


class UnsafeModelError(ValueError):
    """The file is not an ONNX model this service will run; the message says why."""


class InputMismatchError(ValueError):
    """The model's input is not one image of the declared size."""


@dataclass(frozen=True)
class ModelFacts:
    opset: int | None
    inputs: list[OutputInfo]
    outputs: list[OutputInfo]
    tensor_bytes: int
    nodes: int


def parse(data: bytes) -> onnx.ModelProto:
    """Bytes -> ModelProto; external data is never loaded from bytes (there is no base folder)."""
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf's DecodeError and friends: all mean "not a model"
        raise UnsafeModelError(f"not an ONNX model: the file does not parse ({exc})") from exc
    return model


def inspect(model: onnx.ModelProto, max_tensor_bytes: int = DEFAULT_MAX_TENSOR_BYTES) -> ModelFacts:
    if not model.HasField("graph") or not model.graph.output:
        raise UnsafeModelError("not an ONNX model: it has no graph with outputs")
    _check_domains(model)
    total = 0
    nodes = 0
    for graph in _graphs(model):
        nodes += len(graph.node)
        for tensor in _tensors(graph):
            total += _checked_size(tensor, max_tensor_bytes)
    if total > max_tensor_bytes:
        raise UnsafeModelError(
            f"the model's tensors declare {_bytes(total)} in all; the limit is "
            f"{_bytes(max_tensor_bytes)}"
        )
    initialized = {t.name for t in model.graph.initializer}
    inputs = [_info(v) for v in model.graph.input if v.name not in initialized]
    return ModelFacts(
        opset=next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None),
        inputs=inputs,
        outputs=[_info(v) for v in model.graph.output],
        tensor_bytes=total,
        nodes=nodes,
    )


def check_image_input(inputs: list[OutputInfo], input_size: tuple[int, int]) -> None:
    """Exactly one float image input, batch 1 or dynamic, 3 channels, the declared size."""
    width, height = input_size
    if len(inputs) != 1:
        names = ", ".join(repr(i.name) for i in inputs) or "none"
        raise InputMismatchError(f"the model needs one image input; it has {len(inputs)}: {names}")
    (image,) = inputs
    text = "x".join(str(d) if isinstance(d, int) else "?" for d in image.shape)
    if len(image.shape) != 4:
        raise InputMismatchError(f"input {image.name!r} is {text}, not batch x 3 x height x width")
    batch, channels, rows, cols = image.shape
    if isinstance(batch, int) and batch != 1:
        raise InputMismatchError(f"input {image.name!r} is {text}: the batch must be 1 or dynamic")
    if isinstance(channels, int) and channels != 3:
        raise InputMismatchError(f"input {image.name!r} is {text}: it needs 3 colour channels")
    if (isinstance(cols, int) and cols != width) or (isinstance(rows, int) and rows != height):
        raise InputMismatchError(
            f"input {image.name!r} is {text} ({cols} wide, {rows} high); the model is declared "
            f"{width}x{height}"
        )
    if image.dtype != "float32":
        raise InputMismatchError(f"input {image.name!r} takes {image.dtype}; it must take float32")


def _check_domains(model: onnx.ModelProto) -> None:
    local = {(f.domain, f.name) for f in model.functions}
    for opset in model.opset_import:
        if opset.domain not in STANDARD_DOMAINS and opset.domain not in {d for d, _ in local}:
            raise UnsafeModelError(
                f"the model imports operator domain {opset.domain!r}: only the standard ONNX "
                "domains are allowed (no custom operators)"
            )
    for graph in _graphs(model):
        for node in graph.node:
            if node.domain not in STANDARD_DOMAINS and (node.domain, node.op_type) not in local:
                raise UnsafeModelError(
                    f"node {node.name or node.op_type!r} uses the custom operator "
                    f"{node.domain}.{node.op_type}: only standard ONNX operators are allowed"
                )


def _graphs(model: onnx.ModelProto) -> Iterator[onnx.GraphProto]:
    """The main graph, every subgraph (Loop, If, Scan bodies) and every local function's body."""
    pending = [model.graph]
    for function in model.functions:
        pending.append(helper.make_graph(list(function.node), function.name, [], []))
    while pending:
        graph = pending.pop()
        yield graph
        for node in graph.node:
            for attribute in node.attribute:
                if attribute.HasField("g"):
                    pending.append(attribute.g)
                pending.extend(attribute.graphs)


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("sparse_tensor"):
                yield attribute.sparse_tensor.values
                yield attribute.sparse_tensor.indices


def _checked_size(tensor: onnx.TensorProto, limit: int) -> int:
    name = tensor.name or "(unnamed)"
    if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.external_data:
        location = next((e.value for e in tensor.external_data if e.key == "location"), "?")
        raise UnsafeModelError(
            f"tensor {name!r} keeps its data in an external file ({location!r}); upload one "
            "self-contained .onnx file"
        )
    if any(d < 0 for d in tensor.dims):
        raise UnsafeModelError(f"tensor {name!r} declares a negative size {list(tensor.dims)}")
    count = math.prod(tensor.dims)
    if tensor.data_type == onnx.TensorProto.STRING:
        return sum(len(s) for s in tensor.string_data)
    declared = _declared_bytes(tensor, count)
    if declared > limit:
        raise UnsafeModelError(
            f"tensor {name!r} declares {list(tensor.dims)} values, {_bytes(declared)}; the "
            f"limit is {_bytes(limit)}"
        )
    stored = _stored_bytes(tensor, count, declared)
    if stored != declared:
        raise UnsafeModelError(
            f"tensor {name!r} declares {_bytes(declared)} but the file stores {_bytes(stored)}"
        )
    return declared


def _declared_bytes(tensor: onnx.TensorProto, count: int) -> int:
    if tensor.data_type in PACKED_4BIT:
        return (count + 1) // 2
    try:
        itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
    except (KeyError, TypeError, ValueError) as exc:
        raise UnsafeModelError(
            f"tensor {tensor.name!r} has unknown data type {tensor.data_type}"
        ) from exc
    return count * itemsize


def _stored_bytes(tensor: onnx.TensorProto, count: int, declared: int) -> int:
    if tensor.HasField("raw_data"):
        return len(tensor.raw_data)
    typed = max(
        len(tensor.float_data),
        len(tensor.int32_data),
        len(tensor.int64_data),
        len(tensor.double_data),
        len(tensor.uint64_data),
    )
    if tensor.data_type in PACKED_4BIT or tensor.data_type in (
        onnx.TensorProto.COMPLEX64,
        onnx.TensorProto.COMPLEX128,
    ):
        # Packed and complex values do not map one to one onto the typed fields; an exact
        # comparison would refuse valid files, and their declared size passed the limit.
        return declared
    return declared if typed == count else typed * (declared // count if count else 0)


def _info(value: onnx.ValueInfoProto) -> OutputInfo:
    tensor_type = value.type.tensor_type
    dims: list[Dim] = []
    for dim in tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(int(dim.dim_value))
        else:
            dims.append(dim.dim_param or None)
    try:
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)).name
    except (KeyError, TypeError, ValueError):
        dtype = f"type {tensor_type.elem_type}"
    return OutputInfo(value.name, tuple(dims), dtype)


def _bytes(count: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"
