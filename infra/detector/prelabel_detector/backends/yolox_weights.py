"""YOLOX weights: imported once from an ONNX export, shipped as a torch file, loaded at start.

The ONNX export has batch-norm folded into its convolutions and numbers most initializers, so
they are matched to the PyTorch port by position: the export lists its Conv nodes in the order
the network ran them when it was traced, which is the order the port's forward calls its
convolutions. Every shape, group count, stride and padding is checked on the way.

    python -m prelabel_detector.backends.yolox_weights yolox_nano.onnx out/yolox_nano.pt
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from prelabel_detector.backends.yolox_net import YOLOX, Architecture

FORMAT = "prelabel-yolox/1"


class WeightsError(ValueError):
    pass


def execution_order(net: YOLOX, input_size: tuple[int, int]) -> list[str]:
    """Names of the network's convolutions in the order one forward pass runs them."""
    names = {module: name for name, module in net.named_modules()}
    order: list[str] = []
    hooks = [
        module.register_forward_hook(lambda m, _args, _out: order.append(names[m]))
        for module in net.modules()
        if isinstance(module, nn.Conv2d)
    ]
    try:
        with torch.inference_mode():
            net(torch.zeros(1, 3, input_size[1], input_size[0]))
    finally:
        for hook in hooks:
            hook.remove()
    return order


def state_dict_from_onnx(
    onnx_path: Path, arch: Architecture, input_size: tuple[int, int] = (416, 416)
) -> dict[str, torch.Tensor]:
    import onnx  # build-time only: the artifact carries the converted file
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    initializers = {init.name: init for init in graph.initializer}
    convs = [node for node in graph.node if node.op_type == "Conv"]
    net = YOLOX(arch)
    order = execution_order(net, input_size)
    if len(order) != len(convs):
        raise WeightsError(
            f"{onnx_path.name} has {len(convs)} convolutions, the {arch} port {len(order)}"
        )
    state: dict[str, torch.Tensor] = {}
    for name, node in zip(order, convs, strict=True):
        conv = net.get_submodule(name)
        assert isinstance(conv, nn.Conv2d)
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        expected = {
            "group": conv.groups,
            "strides": list(conv.stride),
            "pads": [*conv.padding, *conv.padding],
        }
        got = {key: attrs.get(key, [0, 0, 0, 0] if key == "pads" else 1) for key in expected}
        if got["strides"] == 1:
            got["strides"] = [1, 1]
        if got != expected or len(node.input) != 3:
            raise WeightsError(f"{node.name} ({got}) does not match {name} ({expected})")
        for key, tensor_name in (("weight", node.input[1]), ("bias", node.input[2])):
            if tensor_name not in initializers:
                raise WeightsError(f"{node.name}'s {key} {tensor_name} is not an initializer")
            value = torch.from_numpy(numpy_helper.to_array(initializers[tensor_name]).copy())
            target = getattr(conv, key)
            if value.shape != target.shape:
                raise WeightsError(
                    f"{node.name} {key} {tuple(value.shape)} != {name} {tuple(target.shape)}"
                )
            state[f"{name}.{key}"] = value.float()
    net.load_state_dict(state, strict=True)
    return state


def save(path: Path, arch: Architecture, state: dict[str, torch.Tensor]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": FORMAT, "architecture": arch.to_dict(), "state_dict": state}, path)
    return path


def load_network(path: Path) -> YOLOX:
    # weights_only: the file is data (tensors, numbers, strings); nothing in it is executed.
    doc: Any = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise WeightsError(f"{path} is not a {FORMAT} weights file")
    net = YOLOX(Architecture.from_dict(doc["architecture"]))
    net.load_state_dict(doc["state_dict"], strict=True)
    return net.eval()


def convert(onnx_path: Path, out_path: Path, arch: Architecture | None = None) -> Path:
    arch = arch or Architecture()
    return save(out_path, arch, state_dict_from_onnx(onnx_path, arch))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Convert a YOLOX ONNX export to a torch file")
    parser.add_argument("onnx", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--depth", type=float, default=Architecture.depth)
    parser.add_argument("--width", type=float, default=Architecture.width)
    parser.add_argument("--no-depthwise", action="store_true")
    args = parser.parse_args(argv)
    arch = Architecture(args.depth, args.width, not args.no_depthwise)
    print(convert(args.onnx, args.out, arch))


if __name__ == "__main__":
    main()
