"""coco-mini-train (80 photos, COCO's own labels) and YOLOX-Nano's boxes on it, once a session."""

from __future__ import annotations

from pathlib import Path

import pytest

from prelabel_detector.descriptor import Descriptor, bundled
from prelabel_detector.handler import LoadedModel, load_model
from prelabel_local.coco_quality import CocoSet, Detected, detect_coco, load_coco_set

SHARED = Path(__file__).resolve().parents[4] / "shared"
YOLOX_DIR = SHARED / "models" / "yolox-nano"
COCO_MINI = SHARED / "data" / "coco-mini-train"
# The lowest threshold a mapping may set: the whole range a report can cover.
SCORE_FLOOR = 0.01


@pytest.fixture(scope="session")
def coco_mini() -> CocoSet:
    if not (COCO_MINI / "instances.json").is_file():
        pytest.skip(f"coco-mini-train not present at {COCO_MINI} (test-only data)")
    return load_coco_set(COCO_MINI)


@pytest.fixture(scope="session")
def yolox() -> LoadedModel:
    if not (YOLOX_DIR / "yolox_nano.onnx").is_file():
        pytest.skip(f"yolox_nano.onnx not present in {YOLOX_DIR} (test-only model file)")
    return load_model(Descriptor.load(bundled("yolox_nano.json"), YOLOX_DIR))


@pytest.fixture(scope="session")
def detected(yolox: LoadedModel, coco_mini: CocoSet) -> list[Detected]:
    return detect_coco(yolox, coco_mini, SCORE_FLOOR)
