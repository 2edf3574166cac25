"""Models through the product: the API in-process, uploads posted to moto's S3 through the
presigned form, the validation job run by moto's Step Functions (the real ASL, the real handler,
the detector's validator in a child process), and the local detector server reading the models
bucket's artifacts as the multi-model endpoint does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from prelabel.container import Container
from prelabel.domain.detector_classes import COCO_CLASS_NAMES
from prelabel_detector.server import DetectorServer
from prelabel_local.http_events import InProcessApi
from prelabel_local.stack import artifacts_source, start_detector
from tests.integration.core.conftest import make_org
from tests.integration.detector.conftest import YOLOX_DIR
from tests.model_files import declaration

__all__ = ["api_declaration", "detector", "make_org", "shared_model"]


@pytest.fixture
def shared_model() -> None:
    if not (YOLOX_DIR / "yolox_nano.onnx").is_file():
        pytest.skip(f"yolox_nano.onnx not present in {YOLOX_DIR} (test-only model file)")


def api_declaration(name: str, title: str | None = None, **changes: Any) -> dict[str, Any]:
    """tests/model_files.py's declaration of a family model, as the API's POST /models body."""
    declared = declaration(name, **changes)
    classes = declared["classes"]
    norm = dict(declared["normalisation"])
    return {
        "name": title or name,
        "family": declared["family"],
        "input_size": declared["input_size"],
        "normalisation": norm,
        "classes": list(COCO_CLASS_NAMES) if classes == "coco80" else list(classes),
    }


@pytest.fixture
def detector(ports: Container) -> Iterator[DetectorServer]:
    """The local endpoint (the built-in SSD model) serving the test's models bucket by
    TargetModel, as `python -m prelabel_local.stack` starts it."""
    s3 = boto3.client("s3")
    server = start_detector(None, artifacts_source(s3, ports.settings.models_bucket or ""))
    yield server
    server.shutdown()
    server.server_close()


def org_api(org: str) -> InProcessApi:
    return InProcessApi(org)
