"""The 80 COCO classes the detector knows, with stable ids (0-79, the usual COCO-80 order)."""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.errors import InvalidInput

COCO_CLASS_NAMES: tuple[str, ...] = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)


@dataclass(frozen=True, slots=True)
class DetectorClass:
    id: int
    name: str


DETECTOR_CLASSES: tuple[DetectorClass, ...] = tuple(
    DetectorClass(id=i, name=n) for i, n in enumerate(COCO_CLASS_NAMES)
)
# Names other COCO-80 lists use (Pascal VOC style, as in some YOLO exports) for the same classes.
ALIASES = {
    "motorbike": "motorcycle",
    "aeroplane": "airplane",
    "sofa": "couch",
    "pottedplant": "potted plant",
    "diningtable": "dining table",
    "tvmonitor": "tv",
}
_BY_NAME = {c.name: c for c in DETECTOR_CLASSES}


def resolve_class(ref: str | int) -> DetectorClass:
    """Find a class by id or name; the error names the value that matched nothing."""
    if isinstance(ref, bool):
        raise InvalidInput(f"unknown detector class {ref!r}", field="detector_class")
    if isinstance(ref, int):
        if 0 <= ref < len(DETECTOR_CLASSES):
            return DETECTOR_CLASSES[ref]
        raise InvalidInput(f"unknown detector class id {ref} (valid: 0-79)", field="detector_class")
    name = ref.strip().lower()
    found = _BY_NAME.get(ALIASES.get(name, name))
    if found is None:
        raise InvalidInput(f"unknown detector class {ref!r}", field="detector_class")
    return found
