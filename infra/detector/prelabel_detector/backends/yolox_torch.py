"""YOLOX in PyTorch: the GPU serving path (fp16, JPEGs decoded by nvJPEG), also runs on a CPU.

One request is one batch end to end: headers checked on the CPU, JPEGs decoded on the GPU in one
call when torchvision is there (anything else by OpenCV on the CPU), letterboxed into one
tensor, one forward pass, grid decoding and NMS for the whole batch on the device; only the
boxes kept travel back. torchvision is optional: without it JPEGs are decoded by OpenCV and NMS
runs in OpenCV on the candidates (the ONNX backend's NMS).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from prelabel.detector_wire import Detection, Options
from prelabel_detector.backends.base import Backend, Outcome, batched_nms
from prelabel_detector.backends.yolox_net import STRIDES
from prelabel_detector.backends.yolox_weights import load_network
from prelabel_detector.descriptor import Descriptor, DescriptorError
from prelabel_detector.images import (
    ImageHeader,
    ImageRejectedError,
    Pixels,
    check_header,
    decode_image,
)

LOG = logging.getLogger(__name__)
PAD_VALUE = 114
# CUDA batches are padded up to one of these sizes, so cuDNN tunes a handful of shapes once
# (at load, up to the wire format's 32) instead of every request size it meets.
CUDA_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
WARM_BUCKETS = (1, 2, 4, 8, 16, 32)
# Candidates per image that enter NMS. Only very low score floors reach it (0.25 leaves a few
# dozen); without it a floor of 0 would send every cell of the batch (113,568 boxes at 32
# images) into one NMS whose overlap mask grows with the square of that.
PRE_NMS_TOP_K = 1000


@dataclass(frozen=True)
class Decoded:
    pixels: torch.Tensor  # uint8, channels x height x width
    channels: str  # "RGB" (nvJPEG) or "BGR" (OpenCV)


def optional_torchvision() -> ModuleType | None:
    """torchvision when it is usable beside this torch: a mismatched build fails at import."""
    try:
        import torchvision
        import torchvision.io
        import torchvision.ops
    except Exception as exc:  # ImportError, or RuntimeError for operators missing from torch
        LOG.info("torchvision not usable (%s): OpenCV decodes and runs NMS", exc)
        return None
    module: ModuleType = torchvision
    return module


class YoloxTorchBackend(Backend):
    def __init__(
        self,
        descriptor: Descriptor,
        threads: int | None = None,
        device: str | None = None,
        half: bool | None = None,
    ) -> None:
        super().__init__(descriptor)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if self.device.type == "cpu" and threads is not None:
            torch.set_num_threads(threads)
        # Half precision on the GPU by default (tensor cores, half the memory traffic); CPUs
        # have no fast fp16 convolutions, but can run them to check what fp16 changes.
        half = self.device.type == "cuda" if half is None else half
        self.dtype = torch.float16 if half else torch.float32
        net = load_network(descriptor.weights["model"])
        if net.arch.num_classes != len(descriptor.classes):
            raise DescriptorError(
                f"the weights predict {net.arch.num_classes} classes, the descriptor names "
                f"{len(descriptor.classes)}"
            )
        # Channels-last convolutions: faster on tensor cores and on oneDNN alike (~1.4x measured
        # on the CPU). Module.to takes memory_format at run time; the stubs leave it out.
        self.net = net.to(self.device, self.dtype)
        self.net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self._torchvision = optional_torchvision()
        self.gpu_decode = self._torchvision is not None and self.device.type == "cuda"
        self.nms_kernel = "torchvision" if self._torchvision is not None else "opencv"
        grid, strides = _grid(*descriptor.input_size)
        self._grid, self._strides = grid.to(self.device), strides.to(self.device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
            for size in WARM_BUCKETS:
                self.forward(self.blank(size))

    # --- the network alone --------------------------------------------------------------

    def blank(self, batch: int) -> torch.Tensor:
        """An input batch of padding, on the device, in the network's dtype and layout."""
        width, height = self.descriptor.input_size
        return torch.empty(
            (batch, 3, height, width),
            dtype=self.dtype,
            device=self.device,
            memory_format=torch.channels_last,
        ).fill_(PAD_VALUE)

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """Raw grid predictions (N, cells, 85) for an input batch already on the device."""
        with torch.inference_mode():
            out: torch.Tensor = self.net(batch)
            return out

    # --- requests -------------------------------------------------------------------------

    def detect(self, images: Sequence[Pixels], options: Options) -> list[list[Detection]]:
        decoded = [Decoded(torch.from_numpy(image).permute(2, 0, 1), "BGR") for image in images]
        return self._detect(decoded, options)

    def detect_encoded(self, images: Sequence[bytes], options: Options) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(images)
        headers: dict[int, ImageHeader] = {}
        for index, data in enumerate(images):
            try:
                headers[index] = check_header(data)
            except ImageRejectedError as exc:
                outcomes[index] = str(exc)
        decoded: dict[int, Decoded] = {}
        if self.gpu_decode:
            jpegs = [i for i, header in headers.items() if header.format == "JPEG"]
            decoded.update(self._decode_on_device(jpegs, images, headers))
        for index, header in headers.items():
            if index in decoded:
                continue
            try:
                pixels = decode_image(images[index], header)
            except ImageRejectedError as exc:
                outcomes[index] = str(exc)
                continue
            decoded[index] = Decoded(torch.from_numpy(pixels).permute(2, 0, 1), "BGR")
        order = sorted(decoded)
        for index, detections in zip(
            order, self._detect([decoded[i] for i in order], options), strict=True
        ):
            outcomes[index] = detections
        return [item if item is not None else "not decoded" for item in outcomes]

    def _decode_on_device(
        self, indices: list[int], images: Sequence[bytes], headers: dict[int, ImageHeader]
    ) -> dict[int, Decoded]:
        """nvJPEG for the JPEGs; one that it cannot read is left to OpenCV (not in the result)."""
        if not indices:
            return {}
        assert self._torchvision is not None
        io = self._torchvision.io
        # bytearray: torch.frombuffer wants a writable buffer; the copy is a few kilobytes.
        raw = [torch.frombuffer(bytearray(images[i]), dtype=torch.uint8) for i in indices]
        with warnings.catch_warnings():
            # torchvision 0.29 announces the move of its decoders to TorchCodec on every call.
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                pixels = list(io.decode_jpeg(raw, mode=io.ImageReadMode.RGB, device=self.device))
            except RuntimeError:
                # One unreadable JPEG fails the whole batched call; find it one by one.
                pixels = [self._decode_one(io, data) for data in raw]
        found: dict[int, Decoded] = {}
        for index, image in zip(indices, pixels, strict=True):
            header = headers[index]
            if image is not None and tuple(image.shape) == (3, header.height, header.width):
                found[index] = Decoded(image, "RGB")
        return found

    def _decode_one(self, io: ModuleType, data: torch.Tensor) -> torch.Tensor | None:
        try:
            image: torch.Tensor = io.decode_jpeg(
                data, mode=io.ImageReadMode.RGB, device=self.device
            )
        except RuntimeError:
            return None
        return image

    def _detect(self, images: list[Decoded], options: Options) -> list[list[Detection]]:
        if not images:
            return []
        with torch.inference_mode():
            batch, ratios = self._letterbox(images)
            raw = self.forward(batch)[: len(images)].float()
            return self._postprocess(raw, ratios, images, options)

    def _letterbox(self, images: list[Decoded]) -> tuple[torch.Tensor, list[float]]:
        """Each image scaled to fit, anchored top-left on padding, as the ONNX backend does."""
        input_w, input_h = self.descriptor.input_size
        size = len(images)
        if self.device.type == "cuda":
            size = next((b for b in CUDA_BUCKETS if b >= size), size)
        batch = self.blank(size)
        norm = self.descriptor.normalisation
        ratios = []
        for index, image in enumerate(images):
            pixels = image.pixels.to(self.device, non_blocking=True)
            if image.channels != norm.channels:
                pixels = pixels.flip(0)
            height, width = pixels.shape[1:]
            ratio = min(input_w / width, input_h / height)
            new_w, new_h = max(1, int(width * ratio)), max(1, int(height * ratio))
            if (new_w, new_h) != (width, height):
                # Bilinear without antialiasing and rounded to bytes: OpenCV's INTER_LINEAR.
                pixels = F.interpolate(
                    pixels[None].float(), size=(new_h, new_w), mode="bilinear", antialias=False
                )[0].round_()
            batch[index, :, :new_h, :new_w] = pixels
            ratios.append(ratio)
        if not norm.identity:
            mean = torch.tensor(norm.mean, dtype=self.dtype, device=self.device)
            batch = (batch - mean[:, None, None]) * norm.scale[0]
        return batch, ratios

    def _postprocess(
        self, raw: torch.Tensor, ratios: list[float], images: list[Decoded], options: Options
    ) -> list[list[Detection]]:
        # Score = objectness x best class probability; objectness is a sigmoid (>= 0), so the
        # best class of the product is the best class probability's, found without the product.
        best, class_ids = raw[..., 5:].max(dim=-1)
        scores = raw[..., 4] * best
        keep = scores >= options.score_floor
        if int(keep.sum(dim=1).max()) > PRE_NMS_TOP_K:
            keep &= scores >= scores.topk(PRE_NMS_TOP_K, dim=1).values[:, -1:]
        image_idx, cell_idx = torch.nonzero(keep, as_tuple=True)
        scores, class_ids = scores[image_idx, cell_idx], class_ids[image_idx, cell_idx]
        # Grid decoding, in letterbox pixels, of the candidates only.
        cells, strides = raw[image_idx, cell_idx], self._strides[cell_idx]
        centres = (cells[:, :2] + self._grid[cell_idx]) * strides
        halves = torch.exp(cells[:, 2:4]) * strides / 2
        boxes = torch.cat((centres - halves, centres + halves), dim=1).double()
        # Clip to each image's part of the letterbox, the same as clipping to the image itself
        # (one ratio for x and y); NMS is scale-free, so it runs before boxes are scaled back.
        limits = torch.tensor(
            [
                (d.pixels.shape[2] * r, d.pixels.shape[1] * r)
                for d, r in zip(images, ratios, strict=True)
            ],
            dtype=torch.float64,
            device=self.device,
        )
        boxes = torch.minimum(boxes.clamp(min=0.0), limits[image_idx].repeat(1, 2))
        nonempty = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes, scores = boxes[nonempty], scores[nonempty]
        class_ids, image_idx = class_ids[nonempty], image_idx[nonempty]
        classes = self.net.arch.num_classes
        groups = image_idx if options.agnostic_nms else image_idx * classes + class_ids
        kept = self._nms(boxes, scores.double(), groups, options.iou_threshold)
        return self._collect(
            boxes[kept].cpu().numpy(),
            scores[kept].cpu().numpy(),
            class_ids[kept].cpu().numpy(),
            image_idx[kept].cpu().numpy(),
            kept.cpu().numpy(),
            ratios,
            images,
            options,
        )

    def _nms(
        self, boxes: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor, iou: float
    ) -> torch.Tensor:
        if self._torchvision is not None:
            if boxes.numel() == 0:
                return torch.zeros(0, dtype=torch.int64, device=boxes.device)
            # One NMS for the whole batch: each (image, class) group is shifted clear of the
            # others. float64 keeps the shifted coordinates exact.
            offsets = groups.double() * (boxes.max() + 1.0)
            kept: torch.Tensor = self._torchvision.ops.nms(boxes + offsets[:, None], scores, iou)
            return kept
        found = batched_nms(boxes.cpu().numpy(), scores.cpu().numpy(), groups.cpu().numpy(), iou)
        return torch.from_numpy(found).to(boxes.device)

    def _collect(
        self,
        boxes: np.ndarray,
        scores: np.ndarray,
        class_ids: np.ndarray,
        image_idx: np.ndarray,
        candidate_idx: np.ndarray,
        ratios: list[float],
        images: list[Decoded],
        options: Options,
    ) -> list[list[Detection]]:
        # Per image best first, ties by candidate order, as the ONNX backend lists them.
        order = np.lexsort((candidate_idx, -scores, image_idx))
        image_idx = image_idx[order]
        # Back to each image's pixels, clipped again against rounding at the far edges.
        sizes = np.array([d.pixels.shape[2:0:-1] for d in images], dtype=np.float64)
        scaled = boxes[order] / np.asarray(ratios, dtype=np.float64)[image_idx, None]
        scaled = np.minimum(scaled, np.tile(sizes[image_idx], 2))
        names = self.descriptor.classes
        results: list[list[Detection]] = [[] for _ in images]
        # Plain Python values in one conversion each: this loop runs per box kept.
        for image, class_id, score, box in zip(
            image_idx.tolist(),
            class_ids[order].tolist(),
            scores[order].tolist(),
            scaled.tolist(),
            strict=True,
        ):
            mine = results[image]
            if len(mine) < options.max_detections:
                mine.append(Detection(class_id, names[class_id], score, tuple(box)))
        return results


def _grid(input_w: int, input_h: int) -> tuple[torch.Tensor, torch.Tensor]:
    cells, strides = [], []
    for stride in STRIDES:
        rows, cols = input_h // stride, input_w // stride
        ys, xs = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")
        cells.append(torch.stack((xs, ys), dim=-1).reshape(-1, 2))
        strides.append(torch.full((rows * cols, 1), stride))
    return torch.cat(cells).float(), torch.cat(strides).float()
