"""The descriptor file that travels with the weights and picks the backend that reads them."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prelabel_detector.coco import COCO80

FAMILIES = ("ssd-tf", "yolox-onnx", "yolox-torch")
DESCRIPTOR_NAME = "descriptor.json"


class DescriptorError(ValueError):
    pass


@dataclass(frozen=True)
class Normalisation:
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: float = 1.0
    # The network's channel order; decoded images are BGR.
    channels: str = "BGR"


@dataclass(frozen=True)
class Descriptor:
    name: str
    version: str
    family: str
    input_size: tuple[int, int]  # width, height
    classes: tuple[str, ...]
    normalisation: Normalisation
    weights: dict[str, Path]
    # "coco91" when the network emits TF Object Detection API ids instead of class indices.
    class_ids: str = "index"

    @classmethod
    def load(cls, path: Path, weights_dir: Path | None = None) -> Descriptor:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise DescriptorError(f"cannot read descriptor {path}: {exc}") from exc
        return cls.from_dict(doc, weights_dir or _weights_root(doc, path.parent))

    @classmethod
    def from_dict(cls, doc: dict[str, Any], weights_dir: Path) -> Descriptor:
        try:
            family = str(doc["family"])
            if family not in FAMILIES:
                raise DescriptorError(f"family {family!r} is not one of {FAMILIES}")
            classes = tuple(COCO80 if doc["classes"] == "coco80" else doc["classes"])
            if classes != COCO80:
                # The response contract promises COCO-80 indices, so another label space would
                # silently mislabel every box.
                raise DescriptorError("classes must be the 80 COCO classes in their usual order")
            width, height = (int(v) for v in doc["input_size"])
            norm = doc.get("normalisation", {})
            mean = tuple(float(v) for v in norm.get("mean", (0.0, 0.0, 0.0)))
            if len(mean) != 3:
                raise DescriptorError("normalisation.mean needs three values")
            channels = str(norm.get("channels", "BGR")).upper()
            if channels not in ("BGR", "RGB"):
                raise DescriptorError("normalisation.channels must be BGR or RGB")
            weights = {k: weights_dir / str(v) for k, v in doc["weights"].items()}
            class_ids = str(doc.get("class_ids", "index"))
            if class_ids not in ("index", "coco91"):
                raise DescriptorError("class_ids must be index or coco91")
            return cls(
                name=str(doc["name"]),
                version=str(doc["version"]),
                family=family,
                input_size=(width, height),
                classes=classes,
                normalisation=Normalisation(
                    (mean[0], mean[1], mean[2]), float(norm.get("scale", 1.0)), channels
                ),
                weights=weights,
                class_ids=class_ids,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, DescriptorError):
                raise
            raise DescriptorError(f"invalid descriptor: {exc!r}") from exc

    def missing_weights(self) -> list[Path]:
        return [p for p in self.weights.values() if not p.is_file()]


def _weights_root(doc: dict[str, Any], default: Path) -> Path:
    package = doc.get("weights_package")
    if package is None:
        return default
    # find_spec locates an installed weights package without importing (running) it.
    spec = importlib.util.find_spec(str(package))
    if spec is None or not spec.submodule_search_locations:
        raise DescriptorError(f"weights package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def bundled(name: str) -> Path:
    """Path of a descriptor shipped inside this package (e.g. the default local model)."""
    return Path(__file__).with_name(name)


DEFAULT_DESCRIPTOR = "ssd_mobilenet_v2_coco.json"
