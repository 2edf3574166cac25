"""The 80 COCO classes the detector knows, with stable ids (0-79, the usual COCO-80 order)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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


@dataclass(frozen=True, slots=True)
class ClassList:
    """A detector's classes in index order (`class_id` on the wire is the index), found by id
    or by name: the built-ins' COCO-80 with its aliases, or an uploaded model's own names."""

    names: tuple[str, ...]
    # Lower-case names the built-in list also answers to (an uploaded model's are exact).
    aliases: Mapping[str, str] = field(default_factory=dict)
    folded: bool = False

    def find(self, name: str) -> DetectorClass | None:
        """The class `name` names: exactly, else (for the built-ins: always) ignoring case."""
        wanted = name.strip()
        if not self.folded and wanted in self.names:
            return DetectorClass(self.names.index(wanted), wanted)
        lower = wanted.lower()
        lower = self.aliases.get(lower, lower)
        matches = [i for i, n in enumerate(self.names) if n.lower() == lower]
        if len(matches) != 1:
            return None
        return DetectorClass(matches[0], self.names[matches[0]])

    def resolve(self, ref: str | int) -> DetectorClass:
        """Find a class by id or name; the error names the value that matched nothing."""
        if isinstance(ref, bool):
            raise InvalidInput(f"unknown detector class {ref!r}", field="detector_class")
        if isinstance(ref, int):
            if 0 <= ref < len(self.names):
                return DetectorClass(ref, self.names[ref])
            raise InvalidInput(
                f"unknown detector class id {ref} (valid: 0-{len(self.names) - 1})",
                field="detector_class",
            )
        found = self.find(ref)
        if found is None:
            raise InvalidInput(f"unknown detector class {ref!r}", field="detector_class")
        return found


COCO80 = ClassList(COCO_CLASS_NAMES, ALIASES, folded=True)


def resolve_class(ref: str | int) -> DetectorClass:
    """A built-in (COCO-80) class by id or name."""
    return COCO80.resolve(ref)
