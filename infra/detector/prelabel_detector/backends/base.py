"""What every backend offers, and the post-processing they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from prelabel.detector_wire import Detection, Options
from prelabel_detector.descriptor import Descriptor
from prelabel_detector.images import Pixels

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]


class Backend(ABC):
    def __init__(self, descriptor: Descriptor) -> None:
        self.descriptor = descriptor

    @abstractmethod
    def detect(self, images: Sequence[Pixels], options: Options) -> list[list[Detection]]:
        """Detections per image, in the pixel coordinates of each image, for the whole batch."""


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
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    xywh = [(float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])) for b in boxes]
    score_list = [float(s) for s in scores]
    if options.agnostic_nms:
        kept = cv2.dnn.NMSBoxes(xywh, score_list, options.score_floor, options.iou_threshold)
    else:
        ids = [int(c) for c in class_ids]
        kept = cv2.dnn.NMSBoxesBatched(
            xywh, score_list, ids, options.score_floor, options.iou_threshold
        )
    kept_idx = np.asarray(kept, dtype=np.int64).reshape(-1)
    # Sorted by score, ties by index, so a batch and single calls list boxes identically.
    return kept_idx[np.lexsort((kept_idx, -scores[kept_idx]))]
