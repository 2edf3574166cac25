"""TensorFlow Object Detection API SSD graphs, run by OpenCV DNN."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import cv2
import numpy as np

from prelabel.detector_wire import Detection, Options
from prelabel_detector.backends.base import Backend, to_detections
from prelabel_detector.coco import COCO91_TO_80
from prelabel_detector.descriptor import Descriptor
from prelabel_detector.images import Pixels


class SsdTfBackend(Backend):
    def __init__(self, descriptor: Descriptor, threads: int | None = None) -> None:
        super().__init__(descriptor)
        if threads is not None:
            # OpenCV's pool is process-wide; this backend is the only OpenCV user in the server.
            cv2.setNumThreads(threads)
        weights = descriptor.weights
        self._net = cv2.dnn.readNetFromTensorflow(str(weights["model"]), str(weights["config"]))
        # cv::dnn::Net keeps per-forward state, so concurrent requests take turns on it.
        self._lock = threading.Lock()
        self._lut = np.full(256, -1, dtype=np.int64)
        if descriptor.class_ids == "coco91":
            for coco91, index in COCO91_TO_80.items():
                self._lut[coco91] = index
        else:
            self._lut[: len(descriptor.classes)] = np.arange(len(descriptor.classes))

    def detect(self, images: Sequence[Pixels], options: Options) -> list[list[Detection]]:
        if not images:
            return []
        norm = self.descriptor.normalisation
        blob = cv2.dnn.blobFromImages(
            list(images),
            scalefactor=norm.scale[0],
            size=self.descriptor.input_size,
            mean=norm.mean,
            swapRB=norm.channels == "RGB",
            crop=False,
        )
        with self._lock:
            self._net.setInput(blob)
            rows = self._net.forward()[0, 0].copy()
        # DetectionOutput rows: image index, class id, score, normalised x1 y1 x2 y2.
        results = []
        for index, image in enumerate(images):
            height, width = image.shape[:2]
            mine = rows[(rows[:, 0] == index) & (rows[:, 2] > 0)]
            class_ids = self._lut[np.clip(mine[:, 1].astype(np.int64), 0, 255)]
            known = class_ids >= 0
            boxes = mine[known, 3:7] * np.array([width, height, width, height], dtype=np.float32)
            results.append(
                to_detections(
                    boxes.astype(np.float32),
                    mine[known, 2].astype(np.float32),
                    class_ids[known],
                    (width, height),
                    options,
                    self.descriptor.classes,
                    # The graph already ran per-class NMS; only the agnostic variant is extra.
                    nms=False,
                )
            )
        return results
