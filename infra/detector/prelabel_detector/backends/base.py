"""What every backend offers, and the post-processing they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from prelabel.detector_wire import Detection, Options
from prelabel_detector.descriptor import Descriptor
from prelabel_detector.images import ImageRejectedError, Pixels, decode_image

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]
# Per image of a request: its detections, or why it was rejected.
Outcome = list[Detection] | str


class Backend(ABC):
    def __init__(self, descriptor: Descriptor) -> None:
        self.descriptor = descriptor

    @abstractmethod
    def detect(self, images: Sequence[Pixels], options: Options) -> list[list[Detection]]:
        """Detections per image, in the pixel coordinates of each image, for the whole batch."""

    def detect_encoded(self, images: Sequence[bytes], options: Options) -> list[Outcome]:
        """Per image as sent, its detections or the reason it was rejected, in request order.

        Decodes on the CPU; a backend that can decode on its device overrides this.
        """
        decoded: list[Pixels | str] = []
        for data in images:
            try:
                decoded.append(decode_image(data))
            except ImageRejectedError as exc:
                decoded.append(str(exc))
        # One detect call for all readable images; rejected ones keep their slot with the reason.
        detections = iter(self.detect([p for p in decoded if not isinstance(p, str)], options))
        return [item if isinstance(item, str) else next(detections) for item in decoded]


def to_detections(
    boxes: Floats,
    scores: Floats,
    class_ids: Ints,
    image_size: tuple[int, int],
    options: Options,
    classes: Sequence[str],
    nms: bool = True,
) -> list[Detection]:
    """Score floor, clipping, NMS (per class or across classes), best first, capped."""
    width, height = image_size
    keep = scores >= options.score_floor
    boxes, scores, class_ids = boxes[keep], scores[keep], class_ids[keep]
    boxes = np.clip(boxes, 0.0, [width, height, width, height]).astype(np.float32)
    sizes = boxes[:, 2:] - boxes[:, :2]
    keep = np.all(sizes > 0, axis=1)
    boxes, scores, class_ids = boxes[keep], scores[keep], class_ids[keep]
    if nms or options.agnostic_nms:
        order = _nms(boxes, scores, class_ids, options)
    else:
        order = np.argsort(-scores, kind="stable")
    order = order[: options.max_detections]
    return [
        Detection(
            class_id=int(class_ids[i]),
            class_name=classes[int(class_ids[i])],
            score=float(scores[i]),
            box=(float(boxes[i, 0]), float(boxes[i, 1]), float(boxes[i, 2]), float(boxes[i, 3])),
        )
        for i in order
    ]


def _nms(boxes: Floats, scores: Floats, class_ids: Ints, options: Options) -> Ints:
    groups = np.zeros_like(class_ids) if options.agnostic_nms else class_ids
    kept = batched_nms(boxes, scores, groups, options.iou_threshold)
    # Sorted by score, ties by index, so a batch and single calls list boxes identically.
    return kept[np.lexsort((kept, -scores[kept]))]


def batched_nms(boxes: Floats, scores: Floats, groups: Ints, iou_threshold: float) -> Ints:
    """Greedy NMS within each group (boxes x1 y1 x2 y2); indices of the boxes kept."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1).astype(np.float64)
    # Every box passed the score floor already; 0 keeps OpenCV from filtering again.
    kept = cv2.dnn.NMSBoxesBatched(
        xywh.tolist(), scores.tolist(), groups.astype(np.int64).tolist(), 0.0, iou_threshold
    )
    return np.asarray(kept, dtype=np.int64).reshape(-1)
