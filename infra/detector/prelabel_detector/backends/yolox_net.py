"""The YOLOX network (Megvii's CSPDarknet + PAFPN + decoupled head) in plain PyTorch.

Batch-norm is folded into the convolutions (every conv has a bias), as in the ONNX exports the
weights come from; `forward` returns the raw grid predictions of the export, (N, cells, 85):
x, y, log w, log h, objectness and the 80 class probabilities (the last 81 after a sigmoid).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

STRIDES = (8, 16, 32)


@dataclass(frozen=True)
class Architecture:
    """YOLOX's scaling knobs: nano is depth 0.33, width 0.25 with depthwise convolutions."""

    depth: float = 0.33
    width: float = 0.25
    depthwise: bool = True
    num_classes: int = 80

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Architecture:
        return cls(
            depth=float(doc["depth"]),
            width=float(doc["width"]),
            depthwise=bool(doc["depthwise"]),
            num_classes=int(doc["num_classes"]),
        )


class ConvAct(nn.Module):
    """Conv (batch-norm folded in) + SiLU: YOLOX's BaseConv after fusion."""

    def __init__(self, cin: int, cout: int, ksize: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, ksize, stride, (ksize - 1) // 2, groups=groups)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.act(self.conv(x))
        return out


class DWConv(nn.Module):
    """Depthwise conv followed by a pointwise one, both activated."""

    def __init__(self, cin: int, cout: int, ksize: int, stride: int = 1) -> None:
        super().__init__()
        self.dconv = ConvAct(cin, cin, ksize, stride, groups=cin)
        self.pconv = ConvAct(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.pconv(self.dconv(x))
        return out


def _conv(cin: int, cout: int, ksize: int, stride: int, depthwise: bool) -> nn.Module:
    return DWConv(cin, cout, ksize, stride) if depthwise else ConvAct(cin, cout, ksize, stride)


class Bottleneck(nn.Module):
    def __init__(self, cin: int, cout: int, shortcut: bool, depthwise: bool) -> None:
        super().__init__()
        self.conv1 = ConvAct(cin, cout, 1)
        self.conv2 = _conv(cout, cout, 3, 1, depthwise)
        self.use_add = shortcut and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor = self.conv2(self.conv1(x))
        return y + x if self.use_add else y


class CSPLayer(nn.Module):
    def __init__(self, cin: int, cout: int, n: int, shortcut: bool, depthwise: bool) -> None:
        super().__init__()
        hidden = cout // 2
        self.conv1 = ConvAct(cin, hidden, 1)
        self.conv2 = ConvAct(cin, hidden, 1)
        self.conv3 = ConvAct(2 * hidden, cout, 1)
        self.m = nn.Sequential(*(Bottleneck(hidden, hidden, shortcut, depthwise) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # conv1, conv2, then m: the order the export traced, which the weight import follows.
        x1 = self.conv1(x)
        x2 = self.conv2(x)
        out: torch.Tensor = self.conv3(torch.cat((self.m(x1), x2), dim=1))
        return out


class SPPBottleneck(nn.Module):
    def __init__(self, cin: int, cout: int, kernels: tuple[int, ...] = (5, 9, 13)) -> None:
        super().__init__()
        hidden = cin // 2
        self.conv1 = ConvAct(cin, hidden, 1)
        self.pools = nn.ModuleList(nn.MaxPool2d(k, 1, k // 2) for k in kernels)
        self.conv2 = ConvAct(hidden * (len(kernels) + 1), cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        out: torch.Tensor = self.conv2(torch.cat([x, *(pool(x) for pool in self.pools)], dim=1))
        return out


class Focus(nn.Module):
    """Space-to-depth: four pixel phases side by side in the channels, then a conv."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = ConvAct(cin * 4, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top_left = x[..., ::2, ::2]
        top_right = x[..., ::2, 1::2]
        bottom_left = x[..., 1::2, ::2]
        bottom_right = x[..., 1::2, 1::2]
        out: torch.Tensor = self.conv(
            torch.cat((top_left, bottom_left, top_right, bottom_right), dim=1)
        )
        return out


class CSPDarknet(nn.Module):
    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        base = int(arch.width * 64)
        depth = max(round(arch.depth * 3), 1)
        dw = arch.depthwise
        self.stem = Focus(3, base)
        self.dark2 = nn.Sequential(
            _conv(base, base * 2, 3, 2, dw), CSPLayer(base * 2, base * 2, depth, True, dw)
        )
        self.dark3 = nn.Sequential(
            _conv(base * 2, base * 4, 3, 2, dw), CSPLayer(base * 4, base * 4, depth * 3, True, dw)
        )
        self.dark4 = nn.Sequential(
            _conv(base * 4, base * 8, 3, 2, dw), CSPLayer(base * 8, base * 8, depth * 3, True, dw)
        )
        self.dark5 = nn.Sequential(
            _conv(base * 8, base * 16, 3, 2, dw),
            SPPBottleneck(base * 16, base * 16),
            CSPLayer(base * 16, base * 16, depth, False, dw),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.dark2(self.stem(x))
        c3 = self.dark3(x)
        c4 = self.dark4(c3)
        c5 = self.dark5(c4)
        return c3, c4, c5


class PAFPN(nn.Module):
    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        c3, c4, c5 = (int(c * arch.width) for c in (256, 512, 1024))
        depth = max(round(arch.depth * 3), 1)
        dw = arch.depthwise
        self.backbone = CSPDarknet(arch)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.lateral_conv0 = ConvAct(c5, c4, 1)
        self.C3_p4 = CSPLayer(2 * c4, c4, depth, False, dw)
        self.reduce_conv1 = ConvAct(c4, c3, 1)
        self.C3_p3 = CSPLayer(2 * c3, c3, depth, False, dw)
        self.bu_conv2 = _conv(c3, c3, 3, 2, dw)
        self.C3_n3 = CSPLayer(2 * c3, c4, depth, False, dw)
        self.bu_conv1 = _conv(c4, c4, 3, 2, dw)
        self.C3_n4 = CSPLayer(2 * c4, c5, depth, False, dw)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x2, x1, x0 = self.backbone(x)
        fpn_out0 = self.lateral_conv0(x0)
        f_out0 = self.C3_p4(torch.cat((self.upsample(fpn_out0), x1), dim=1))
        fpn_out1 = self.reduce_conv1(f_out0)
        pan_out2 = self.C3_p3(torch.cat((self.upsample(fpn_out1), x2), dim=1))
        pan_out1 = self.C3_n3(torch.cat((self.bu_conv2(pan_out2), fpn_out1), dim=1))
        pan_out0 = self.C3_n4(torch.cat((self.bu_conv1(pan_out1), fpn_out0), dim=1))
        return pan_out2, pan_out1, pan_out0


class Head(nn.Module):
    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        hidden = int(256 * arch.width)
        dw = arch.depthwise
        levels = [int(c * arch.width) for c in (256, 512, 1024)]
        self.stems = nn.ModuleList(ConvAct(c, hidden, 1) for c in levels)
        self.cls_convs = nn.ModuleList(
            nn.Sequential(_conv(hidden, hidden, 3, 1, dw), _conv(hidden, hidden, 3, 1, dw))
            for _ in levels
        )
        self.reg_convs = nn.ModuleList(
            nn.Sequential(_conv(hidden, hidden, 3, 1, dw), _conv(hidden, hidden, 3, 1, dw))
            for _ in levels
        )
        self.cls_preds = nn.ModuleList(nn.Conv2d(hidden, arch.num_classes, 1) for _ in levels)
        self.reg_preds = nn.ModuleList(nn.Conv2d(hidden, 4, 1) for _ in levels)
        self.obj_preds = nn.ModuleList(nn.Conv2d(hidden, 1, 1) for _ in levels)

    def forward(self, features: tuple[torch.Tensor, ...]) -> torch.Tensor:
        outputs = []
        for k, x in enumerate(features):
            x = self.stems[k](x)
            cls_out = self.cls_preds[k](self.cls_convs[k](x))
            reg_feat = self.reg_convs[k](x)
            reg_out = self.reg_preds[k](reg_feat)
            obj_out = self.obj_preds[k](reg_feat)
            level = torch.cat((reg_out, obj_out.sigmoid(), cls_out.sigmoid()), dim=1)
            outputs.append(level.flatten(start_dim=2))
        return torch.cat(outputs, dim=2).permute(0, 2, 1)


class YOLOX(nn.Module):
    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.arch = arch
        self.backbone = PAFPN(arch)
        self.head = Head(arch)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.backbone(images))
        return out
