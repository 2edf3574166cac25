"""The descriptor file that travels with the weights and picks the backend that reads them."""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prelabel_detector.coco import COCO80

# Built-in detectors shipped with the service: their classes are COCO-80, always.
BUILTIN_FAMILIES = ("ssd-tf", "yolox-onnx", "yolox-torch")
# Families an organization can upload as one ONNX file, each a decoder of the ONNX backend.
UPLOAD_FAMILIES = ("yolox", "ultralytics", "boxes-scores-labels")
FAMILIES = BUILTIN_FAMILIES + UPLOAD_FAMILIES
# Families run by the ONNX Runtime backend, and the decoder each one uses.
ONNX_DECODERS = {
    "yolox-onnx": "yolox",
    "yolox": "yolox",
    "ultralytics": "ultralytics",
    "boxes-scores-labels": "boxes-scores-labels",
}
RESIZE_MODES = ("letterbox-top-left", "letterbox-center", "stretch")
# What each family was trained with when the descriptor does not say: YOLOX anchors its
# letterbox top-left, ultralytics centres it, DETR-style and torchvision exports stretch.
DEFAULT_RESIZE = {
    "ssd-tf": "stretch",
    "yolox-onnx": "letterbox-top-left",
    "yolox-torch": "letterbox-top-left",
    "yolox": "letterbox-top-left",
    "ultralytics": "letterbox-center",
    "boxes-scores-labels": "stretch",
}
MAX_CLASSES = 1000
MAX_CLASS_NAME = 128
MAX_INPUT_SIDE = 4096
DESCRIPTOR_NAME = "descriptor.json"


class DescriptorError(ValueError):
    pass


@dataclass(frozen=True)
class Normalisation:
    """Network input = (pixel - mean) * scale per channel, pixels 0-255 in `channels` order."""

    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    # The network's channel order; decoded images are BGR.
    channels: str = "BGR"
    resize: str = "letterbox-top-left"
    # Fill of the letterbox border (0-255, every channel).
    pad: int = 114

    @property
    def identity(self) -> bool:
        return self.mean == (0.0, 0.0, 0.0) and self.scale == (1.0, 1.0, 1.0)


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

    @property
    def decoder(self) -> str | None:
        """The ONNX backend's decoder for this family; None for families with their own backend."""
        return ONNX_DECODERS.get(self.family)

    @classmethod
    def load(cls, path: Path, weights_dir: Path | None = None) -> Descriptor:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise DescriptorError(f"cannot read descriptor {path}: {exc}") from exc
        if not isinstance(doc, dict):
            raise DescriptorError(f"descriptor {path} is not a JSON object")
        return cls.from_dict(doc, weights_dir or _weights_root(doc, path.parent))

    @classmethod
    def from_dict(cls, doc: dict[str, Any], weights_dir: Path) -> Descriptor:
        try:
            family = str(doc["family"])
            if family not in FAMILIES:
                raise DescriptorError(f"family {family!r} is not one of {FAMILIES}")
            class_ids = str(doc.get("class_ids", "index"))
            if class_ids not in ("index", "coco91"):
                raise DescriptorError("class_ids must be index or coco91")
            weights = doc["weights"]
            if not isinstance(weights, dict):
                raise DescriptorError("weights must map names to files")
            return cls(
                name=str(doc["name"]),
                version=str(doc["version"]),
                family=family,
                input_size=_input_size(doc["input_size"]),
                classes=_classes(family, doc["classes"]),
                normalisation=_normalisation(family, doc.get("normalisation", {})),
                weights={str(k): weights_dir / _relative(str(v)) for k, v in weights.items()},
                class_ids=class_ids,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, DescriptorError):
                raise
            raise DescriptorError(f"invalid descriptor: {exc!r}") from exc

    def missing_weights(self) -> list[Path]:
        return [p for p in self.weights.values() if not p.is_file()]


def _input_size(value: Any) -> tuple[int, int]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise DescriptorError(f"input_size must be [width, height], got {value!r}")
    width, height = (int(v) for v in value)
    if not (1 <= width <= MAX_INPUT_SIDE and 1 <= height <= MAX_INPUT_SIDE):
        raise DescriptorError(f"input_size {width}x{height} must lie in 1..{MAX_INPUT_SIDE}")
    return width, height


def _classes(family: str, value: Any) -> tuple[str, ...]:
    if value == "coco80":
        return COCO80
    if family in BUILTIN_FAMILIES:
        if tuple(value) != COCO80:
            # The built-ins promise COCO-80 indices, so another label space would silently
            # mislabel every box.
            raise DescriptorError("classes must be the 80 COCO classes in their usual order")
        return COCO80
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_CLASSES:
        count = len(value) if isinstance(value, list) else type(value).__name__
        raise DescriptorError(f"classes must list 1 to {MAX_CLASSES} names, got {count}")
    names = tuple(value)
    for index, name in enumerate(names):
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_CLASS_NAME:
            raise DescriptorError(
                f"classes[{index}] = {name!r}: a class name is 1 to {MAX_CLASS_NAME} characters"
            )
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise DescriptorError(f"class names must be unique; repeated: {twice[:5]}")
    return names


def _normalisation(family: str, norm: Any) -> Normalisation:
    if not isinstance(norm, dict):
        raise DescriptorError("normalisation must be an object")
    mean = _three(norm.get("mean", 0.0), "mean")
    scale = _three(norm.get("scale", 1.0), "scale")
    if any(s == 0.0 for s in scale):
        raise DescriptorError("normalisation.scale must not be 0")
    if family in ("ssd-tf", "yolox-torch") and len(set(scale)) != 1:
        raise DescriptorError(f"normalisation.scale must be one value for family {family}")
    channels = str(norm.get("channels", "BGR")).upper()
    if channels not in ("BGR", "RGB"):
        raise DescriptorError("normalisation.channels must be BGR or RGB")
    resize = str(norm.get("resize", DEFAULT_RESIZE[family]))
    if resize not in RESIZE_MODES:
        raise DescriptorError(f"normalisation.resize {resize!r} is not one of {RESIZE_MODES}")
    if resize != DEFAULT_RESIZE[family] and family in BUILTIN_FAMILIES:
        raise DescriptorError(f"family {family} resizes as {DEFAULT_RESIZE[family]} only")
    pad = int(norm.get("pad", 114))
    if not 0 <= pad <= 255:
        raise DescriptorError(f"normalisation.pad {pad} must lie in 0..255")
    return Normalisation(mean, scale, channels, resize, pad)


def _three(value: Any, field: str) -> tuple[float, float, float]:
    """One number for every channel, or three, one per channel in the network's order."""
    values = [value] if isinstance(value, int | float) else list(value)
    if len(values) == 1:
        values = values * 3
    if len(values) != 3:
        raise DescriptorError(f"normalisation.{field} needs one or three values, got {value!r}")
    floats = [float(v) for v in values]
    if not all(math.isfinite(v) for v in floats):
        raise DescriptorError(f"normalisation.{field} must be finite numbers, got {value!r}")
    return (floats[0], floats[1], floats[2])


def _relative(name: str) -> str:
    # Weights live beside the descriptor: a descriptor must not point the server elsewhere.
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or ".." in parts:
        raise DescriptorError(f"weights file {name!r} must be a path inside the model folder")
    return name


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
