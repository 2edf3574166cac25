"""Validation of uploaded model files in a limited child process: READY with what was found,
or FAILED with a reason a person understands; hostile files never harm the caller."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prelabel_detector.validation import FAILED, READY, Limits, validate_model
from tests.integration.detector.conftest import YOLOX_DIR
from tests.model_files import FAMILY_MODELS, HOSTILE_FILES, build, declaration, external_data

# Small limits so the hostile cases end quickly; READY models fit in them with room to spare.
LIMITS = Limits(memory_mb=2048, seconds=8)
# A child that is killed still answers within its wall-time limit plus start and clean-up.
ANSWER_SLACK_MS = 5000


@pytest.fixture(autouse=True)
def _shared_model() -> None:
    if not (YOLOX_DIR / "yolox_nano.onnx").is_file():
        pytest.skip(f"yolox_nano.onnx not present in {YOLOX_DIR} (test-only model file)")


@pytest.mark.parametrize("name", list(FAMILY_MODELS))
def test_each_family_model_is_ready_with_what_was_found(tmp_path: Path, name: str) -> None:
    # Given a family's model file and its honest declaration
    data = build(name)
    path = tmp_path / "model.onnx"
    path.write_bytes(data)
    # When it is validated
    result = validate_model(path, declaration(name), LIMITS)
    # Then it is READY and says what the file holds and what opening it cost
    assert (result.status, result.reason) == (READY, None)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.size_bytes == len(data)
    assert result.opset == 11
    assert [(i.name, i.shape) for i in result.inputs] == [("images", [1, 3, 416, 416])]
    assert result.outputs and result.layout
    assert result.load_ms is not None and result.load_ms > 0
    assert result.probe_ms is not None and result.probe_ms > 0
    assert result.probe_detections is not None
    assert result.peak_memory_bytes is not None
    assert 0 < result.peak_memory_bytes < LIMITS.memory_mb << 20
    # and the result survives a trip through JSON (what a job stores)
    assert type(result).from_json(json.loads(json.dumps(result.to_json()))) == result


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("text", "not an ONNX model: the file does not parse"),
        ("truncated", "not an ONNX model: the file does not parse"),
        ("custom-op", "operator domain 'com.example.evil': only the standard ONNX domains"),
        ("external-data", "tensor 'stolen' keeps its data in an external file"),
        ("huge-initializer", "tensor 'huge' declares [536870912] values, 2.0 GB; the limit is"),
        ("wrong-input-size", "input 'images' is 1x3x320x320 (320 wide, 320 high); the model is"),
        ("sleeper", "did not finish within 8 s and was stopped"),
        ("memory-hog", "the model failed on a probe image: it needs more memory than"),
    ],
)
def test_hostile_files_end_failed_with_their_reason(tmp_path: Path, name: str, reason: str) -> None:
    # Given a hostile or broken file named model.onnx, declared as a YOLOX model
    path = tmp_path / "model.onnx"
    path.write_bytes(HOSTILE_FILES[name]())
    # When it is validated
    result = validate_model(path, declaration("yolox"), LIMITS)
    # Then it ends FAILED with its reason, and the caller got its answer within the limit
    assert result.status == FAILED
    assert result.reason is not None and reason in result.reason
    assert result.wall_ms is not None and result.wall_ms < LIMITS.seconds * 1000 + ANSWER_SLACK_MS


def test_a_declared_2gb_tensor_is_never_allocated(tmp_path: Path) -> None:
    # Given a file of a few hundred bytes whose tensor declares 2 GiB
    path = tmp_path / "model.onnx"
    path.write_bytes(HOSTILE_FILES["huge-initializer"]())
    # When it is validated
    result = validate_model(path, declaration("yolox"), LIMITS)
    # Then the child refused it having used a small fraction of that
    assert result.status == FAILED
    assert result.peak_memory_bytes is not None and result.peak_memory_bytes < 512 << 20


def test_the_external_file_a_tensor_names_is_never_opened(tmp_path: Path) -> None:
    # Given a tensor whose data is said to live in ../../canary, and there a FIFO: opening it
    # for reading would block until the wall-time limit
    model_dir = tmp_path / "org" / "upload"
    model_dir.mkdir(parents=True)
    os.mkfifo(tmp_path / "canary")
    path = model_dir / "model.onnx"
    path.write_bytes(external_data("../../canary"))
    # When it is validated
    result = validate_model(path, declaration("yolox"), LIMITS)
    # Then it fails at once for the external reference, long before the limit
    assert result.reason is not None and "external file ('../../canary')" in result.reason
    assert result.wall_ms is not None and result.wall_ms < LIMITS.seconds * 1000 / 2


def test_a_wrong_class_count_is_named_with_what_the_output_fits(tmp_path: Path) -> None:
    # Given a YOLOv8-layout model with 80 classes, declared with 3
    path = tmp_path / "model.onnx"
    path.write_bytes(build("ultralytics-v8"))
    # When it is validated
    result = validate_model(path, declaration("ultralytics-v8", classes=["a", "b", "c"]), LIMITS)
    # Then the reason says what the output fits
    assert result.status == FAILED
    assert result.reason == "output 1x84x3549 fits 80 classes (YOLOv8 layout), the model declares 3"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"family": "ssd-tf"}, "family 'ssd-tf' is not one of"),
        ({"classes": []}, "classes must list 1 to 1000 names, got 0"),
    ],
)
def test_an_invalid_declaration_fails_without_opening_the_file(
    tmp_path: Path, change: dict[str, object], reason: str
) -> None:
    # Given a declaration that cannot describe any uploaded model (a missing file, even)
    # When it is validated
    result = validate_model(tmp_path / "absent.onnx", declaration("yolox", **change), LIMITS)
    # Then it fails on the declaration alone
    assert result.status == FAILED
    assert result.reason is not None and reason in result.reason


def test_command_line_prints_the_result_and_exits_by_status(tmp_path: Path) -> None:
    # Given a model file and its declaration in a JSON file
    path = tmp_path / "model.onnx"
    path.write_bytes(build("custom-classes"))
    declared = tmp_path / "declared.json"
    declared.write_text(json.dumps(declaration("custom-classes")))
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(declaration("custom-classes", classes=["only-one"])))
    command = [sys.executable, "-m", "prelabel_detector.validation", str(path), "--declared"]
    # When the command validates it, honestly declared and with a wrong class count
    ok = subprocess.run([*command, str(declared)], capture_output=True, text=True, check=False)
    bad = subprocess.run([*command, str(wrong)], capture_output=True, text=True, check=False)
    # Then it prints the result as JSON and exits 0 for READY, 1 for FAILED
    assert (ok.returncode, json.loads(ok.stdout)["status"]) == (0, READY)
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["reason"] == (
        "output 1x7x3549 fits 3 classes (YOLOv8 layout), the model declares 1"
    )
