"""The Models panel and the detector picker in Chromium over the whole local stack: a model
built from the shared YOLOX-Nano (3 classes renamed worker, forklift, pallet) uploaded through
the page (presigned POST to moto's S3, with progress), validated by its job, picked for a
project (the dropped rows named), its classes mapped, a run started, pre-labels under the new
names from the local endpoint's TargetModel; a text file named .onnx ends FAILED with its
reason on the page."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from playwright.sync_api import Page, expect

from prelabel.container import Container
from prelabel_local.http_events import InProcessApi
from prelabel_local.jwt_keys import SigningKey
from prelabel_local.stack import artifacts_source, start_detector
from tests.e2e.conftest import save_shot
from tests.e2e.page_steps import RUN_TIMEOUT_MS, add_class, chip, open_page, tid
from tests.integration.workflow.conftest import YOLOX_DIR, all_tasks, make_project
from tests.model_files import HOSTILE_FILES, build

pytestmark = pytest.mark.e2e
ORG = "org-models"
# The validation job on moto's Step Functions: start, read, a child process, package, write.
VALIDATION_TIMEOUT_MS = 120_000


@pytest.fixture
def models_endpoint(stack: Container, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The local endpoint as the stack starts it: YOLOX-Nano built in, and the test's models
    bucket's artifacts by TargetModel; the workers call it."""
    if not (YOLOX_DIR / "yolox_nano.onnx").is_file():
        pytest.skip(f"yolox_nano.onnx not present in {YOLOX_DIR} (test-only model file)")
    s3 = boto3.client("s3")
    server = start_detector(YOLOX_DIR, artifacts_source(s3, stack.settings.models_bucket or ""))
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", server.url)
    yield server.url
    server.shutdown()
    server.server_close()


def _declare(page: Page, name: str, family: str, classes: str, path: Path) -> None:
    page.locator(tid("model-upload")).locator("summary").click()
    page.fill(tid("model-name"), name)
    page.select_option(tid("model-family"), family)
    page.fill(tid("model-width"), "416")
    page.fill(tid("model-height"), "416")
    page.fill(tid("model-mean"), "0")
    page.fill(tid("model-scale"), "0.00392156862745098")
    page.select_option(tid("model-channels"), "RGB")
    page.select_option(tid("model-resize"), "letterbox-top-left")
    page.fill(tid("model-classes"), classes)
    page.set_input_files(tid("model-file"), str(path))
    page.click(tid("model-upload-button"))


def test_a_model_uploaded_through_the_page_prelabels_a_project_under_its_classes(
    stack: Container,
    models_endpoint: str,
    gateway_url: str,
    signing_key: SigningKey,
    page: Page,
    tmp_path: Path,
) -> None:
    # Given a project with 6 WAITING photos mapped to COCO classes, and the 3-class model file
    ref = make_project(stack, ORG, waiting=6)
    data = build("custom-classes")
    model_file = tmp_path / "forklifts.onnx"
    model_file.write_bytes(data)
    open_page(page, gateway_url, signing_key, ORG)
    expect(page.locator(tid("detector-current"))).to_have_text("COCO-80 (built-in)", timeout=15_000)
    expect(page.locator(tid("models-empty"))).to_be_visible()
    # When the user uploads it through the Models panel
    _declare(page, "Forklifts", "ultralytics", "worker\nforklift\npallet", model_file)
    # Then the file goes to S3 with progress, is validated, and the page shows READY
    status = page.locator(tid("model-upload-status"))
    expect(status).to_have_attribute("data-outcome", "READY", timeout=VALIDATION_TIMEOUT_MS)
    sha = hashlib.sha256(data).hexdigest()
    expect(status).to_contain_text(f"READY: version {sha[:12]}")
    item = page.locator(tid("model-item")).filter(has_text="Forklifts")
    expect(item.locator(tid("version-status"))).to_have_text("READY")
    save_shot(page, tmp_path, "60-model-ready")
    # When the project picks it
    model_id = str(item.get_attribute("data-model-id"))
    page.select_option(tid("detector-select"), model_id)
    page.click(tid("detector-apply"))
    # Then the picker says so and names the COCO rows the model has no class for
    expect(page.locator(tid("detector-current"))).to_have_text(f"Forklifts · version {sha[:12]}")
    dropped = page.locator(tid("detector-dropped"))
    expect(dropped).to_contain_text("Dropped 10 rows the new model has no class for: car → Vehicle")
    save_shot(page, tmp_path, "61-detector-picked")
    # When its classes are mapped in the mapping editor (the type-ahead offers the model's)
    add_class(page, "Person", "work")
    add_class(page, "Vehicle", "fork")
    add_class(page, "Vehicle", "pall")
    expect(chip(page, "Person", "worker")).to_be_visible()
    expect(chip(page, "Vehicle", "pallet")).to_be_visible()
    page.click(tid("mapping-save"))
    expect(page.locator(tid("mapping-status"))).to_have_text("Saved · 3 classes")
    # And a run is started
    page.click(tid("start-button"))
    expect(page.locator(tid("run-status"))).to_have_text("COMPLETED", timeout=RUN_TIMEOUT_MS)
    expect(page.locator(tid("run-summary"))).to_have_text("6 images pre-labeled")
    # Then every pre-label carries the model's name and version and one of its class names
    labels = [
        label
        for task in all_tasks(ref)
        for label in InProcessApi(ORG).json(
            "GET", f"/projects/{ref.project_id}/tasks/{task['task_id']}"
        )["labels"]
    ]
    assert labels and {(lbl["model_name"], lbl["model_version"]) for lbl in labels} == {
        ("Forklifts", sha)
    }
    assert {lbl["detector_class"] for lbl in labels} <= {"worker", "forklift", "pallet"}
    assert "worker" in {lbl["detector_class"] for lbl in labels}
    # And the preview of a pre-labeled task draws them under the new names
    best = max(all_tasks(ref), key=lambda t: t["label_count"])
    page.click(f'{tid("task-row")}[data-task-id="{best["task_id"]}"]')
    expect(page.locator(tid("preview-canvas"))).to_have_attribute("data-drawn", "true")
    expect(page.locator(tid("preview-label"))).to_have_count(best["label_count"])
    names = " ".join(page.locator(tid("preview-label")).all_inner_texts())
    assert "worker" in names or "forklift" in names or "pallet" in names, names
    save_shot(page, tmp_path, "62-run-with-own-model")


def test_a_text_file_named_onnx_uploaded_through_the_page_ends_failed_with_its_reason(
    stack: Container,
    gateway_url: str,
    signing_key: SigningKey,
    page: Page,
    tmp_path: Path,
) -> None:
    # Given a project, and a text file named model.onnx
    make_project(stack, ORG, waiting=1)
    bad = tmp_path / "model.onnx"
    bad.write_bytes(HOSTILE_FILES["text"]())
    open_page(page, gateway_url, signing_key, ORG)
    # When it is uploaded through the Models panel
    _declare(page, "Not a model", "yolox", "a\nb", bad)
    # Then its version ends FAILED, and the page shows the validator's reason
    status = page.locator(tid("model-upload-status"))
    expect(status).to_have_attribute("data-outcome", "FAILED", timeout=VALIDATION_TIMEOUT_MS)
    expect(status).to_contain_text("FAILED: not an ONNX model: the file does not parse")
    item = page.locator(tid("model-item")).filter(has_text="Not a model")
    expect(item.locator(tid("version-status"))).to_have_text("FAILED")
    expect(item.locator(tid("version-reason"))).to_contain_text("not an ONNX model")
    # And it cannot be picked: the picker offers the built-in only
    expect(page.locator(f"{tid('detector-select')} option")).to_have_count(1)
    save_shot(page, tmp_path, "63-model-failed")
