"""The demo's project, the same for `make demo`, the ready-to-use local stack and the tests:
its label configuration (Vehicle, Person, Animal boxes and a Road polygon), the COCO classes
mapped to each box entry, and the mapping's default threshold."""

from __future__ import annotations

from typing import Any

LABEL_CONFIG = [
    {"id": "vehicle", "name": "Vehicle", "geometry": "bbox"},
    {"id": "person", "name": "Person", "geometry": "bbox"},
    {"id": "animal", "name": "Animal", "geometry": "bbox"},
    {"id": "road", "name": "Road", "geometry": "polygon"},
]
CLASS_MAP = {
    "vehicle": ("car", "truck", "bus", "motorcycle"),
    "person": ("person",),
    "animal": (
        "cat",
        "dog",
        "horse",
        "sheep",
        "cow",
        "bird",
        "bear",
        "elephant",
        "zebra",
        "giraffe",
    ),
}
DEFAULT_THRESHOLD = 0.5


def mapping_body(threshold: float) -> dict[str, Any]:
    rows = [
        {"detector_class": cls, "entry_id": entry}
        for entry, classes in CLASS_MAP.items()
        for cls in classes
    ]
    return {"rows": rows, "default_threshold": threshold}
