"""YOLOX ONNX exports through ONNX Runtime: letterbox, grid decode, NMS."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import onnxruntime as ort

from prelabel.detector_wire import Detection, Options
from prelabel_detector.backends.base import Backend, Floats, to_detections
from prelabel_detector.descriptor import Descriptor
from prelabel_detector.images import Pixels

STRIDES = (8, 16, 32)
PAD_VALUE = 114


class YoloxOnnxBackend(Backend):
    def __init__(self, descriptor: Descriptor, threads: int | None = None) -> None:
        super().__init__(descriptor)
        session_options = ort.SessionOptions()
        if threads is not None:
            session_options.intra_op_num_threads = threads
            session_options.inter_op_num_threads = 1
        available = ort.get_available_providers()
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        self._session = ort.InferenceSession(
            str(descriptor.weights["model"]), session_options, providers=providers
        )
        model_input = self._session.get_inputs()[0]
        self._input_name = model_input.name
        batch_dim = model_input.shape[0]
        # Static exports (like the stock yolox_nano.onnx, batch 1) are fed in chunks of their
        # batch size; dynamic exports take the whole request in one run.
        self.chunk = batch_dim if isinstance(batch_dim, int) and batch_dim > 0 else None
        self.providers = self._session.get_providers()
        self._grid, self._strides = _grid(*descriptor.input_size)

    def detect(self, images: Sequence[Pixels], options: Options) -> list[list[Detection]]:
        if not images:
            return []
        prepared = [self._letterbox(image) for image in images]
        tensor = np.stack([p[0] for p in prepared])
        chunk = self.chunk or len(images)
        outputs = []
        for start in range(0, len(images), chunk):
            part = tensor[start : start + chunk]
            missing = chunk - len(part)
            if missing:
                part = np.concatenate([part, np.repeat(part[-1:], missing, axis=0)])
            outputs.append(self._session.run(None, {self._input_name: part})[0][: chunk - missing])
        raw = np.concatenate(outputs).astype(np.float32)
        xy = (raw[..., :2] + self._grid) * self._strides
        half = np.exp(raw[..., 2:4]) * self._strides / 2
        corners = np.concatenate([xy - half, xy + half], axis=-1)
        class_scores = raw[..., 4:5] * raw[..., 5:]
        class_ids = class_scores.argmax(axis=-1)
        scores = np.take_along_axis(class_scores, class_ids[..., None], axis=-1)[..., 0]
        results = []
        for index, image in enumerate(images):
            height, width = image.shape[:2]
            results.append(
                to_detections(
                    (corners[index] / prepared[index][1]).astype(np.float32),
                    scores[index].astype(np.float32),
                    class_ids[index].astype(np.int64),
                    (width, height),
                    options,
                    self.descriptor.classes,
                )
            )
        return results

    def _letterbox(self, image: Pixels) -> tuple[Floats, float]:
        input_w, input_h = self.descriptor.input_size
        height, width = image.shape[:2]
        ratio = min(input_w / width, input_h / height)
        new_w, new_h = max(1, int(width * ratio)), max(1, int(height * ratio))
        canvas = np.full((input_h, input_w, 3), PAD_VALUE, dtype=np.uint8)
        canvas[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        norm = self.descriptor.normalisation
        if norm.channels == "RGB":
            canvas = canvas[..., ::-1]
        chw = canvas.transpose(2, 0, 1).astype(np.float32)
        if norm.mean != (0.0, 0.0, 0.0) or norm.scale != 1.0:
            chw = (chw - np.asarray(norm.mean, dtype=np.float32)[:, None, None]) * norm.scale
        return chw, ratio


def _grid(input_w: int, input_h: int) -> tuple[Floats, Floats]:
    cells, strides = [], []
    for stride in STRIDES:
        rows, cols = input_h // stride, input_w // stride
        ys, xs = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        cells.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        strides.append(np.full((rows * cols, 1), stride))
    return (
        np.concatenate(cells).astype(np.float32),
        np.concatenate(strides).astype(np.float32),
    )
