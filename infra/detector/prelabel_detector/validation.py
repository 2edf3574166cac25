"""Validation of an uploaded model file, in a child process with a memory and a time limit.

    python -m prelabel_detector.validation model.onnx --declared declared.json \
        [--memory-mb 4096] [--seconds 120]

prints the result as JSON (exit 0 READY, 1 FAILED). From Python:

    result = validate_model(Path("model.onnx"), declared)   # never raises for a bad file
    result.status, result.reason, result.to_json()

`declared` is what the uploader said: family, input_size, classes, normalisation (the
descriptor without name, version and weights). The checks run in a fresh interpreter whose
address space is capped (RLIMIT_AS) and which is killed past the wall-time limit, so a
hostile file can only fail its own validation; the caller's process never parses it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from prelabel_detector.descriptor import UPLOAD_FAMILIES, Descriptor, DescriptorError

READY = "READY"
FAILED = "FAILED"
# Numeric libraries reserve address space per thread; the checks need one.
CHILD_THREADS_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
LOG_TAIL_BYTES = 2000


@dataclass(frozen=True)
class Limits:
    # The child's whole address space: the interpreter with ONNX Runtime and OpenCV takes
    # about 0.6 GB before the model, and a 512 MB model about three times its size.
    memory_mb: int = 4096
    seconds: float = 120.0
    max_file_mb: int = 512
    # What the model's tensors may declare in all (a lie beyond this is never allocated).
    max_tensor_mb: int = 1024


@dataclass(frozen=True)
class TensorSummary:
    name: str
    shape: list[int | str | None]
    dtype: str


@dataclass(frozen=True)
class ValidationResult:
    status: str  # READY or FAILED
    reason: str | None = None  # for people, when FAILED
    sha256: str | None = None
    size_bytes: int | None = None
    opset: int | None = None
    inputs: list[TensorSummary] = field(default_factory=list)
    outputs: list[TensorSummary] = field(default_factory=list)
    layout: str | None = None  # how the decoder reads the outputs
    load_ms: float | None = None  # ONNX Runtime session creation
    probe_ms: float | None = None  # one probe image: prepare, run, decode, NMS
    probe_detections: int | None = None
    peak_memory_bytes: int | None = None  # the child's peak resident memory
    wall_ms: float | None = None  # the whole validation, child start included
    detail: str | None = None  # the child's last log lines when it ended without a result

    @property
    def ready(self) -> bool:
        return self.status == READY

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ValidationResult:
        tensors = {
            key: [TensorSummary(t["name"], list(t["shape"]), t["dtype"]) for t in doc.get(key, [])]
            for key in ("inputs", "outputs")
        }
        return cls(**{**doc, **tensors})


def failed(reason: str, **found: Any) -> ValidationResult:
    return ValidationResult(FAILED, reason, **found)


def declared_descriptor(path: Path, declared: Mapping[str, Any]) -> Descriptor:
    """The declaration as the descriptor the server will load the file with."""
    family = declared.get("family")
    if family not in UPLOAD_FAMILIES:
        raise DescriptorError(f"family {family!r} is not one of {UPLOAD_FAMILIES}")
    doc = {
        "name": "validation",
        "version": "",
        **declared,
        "weights": {"model": path.name},
    }
    return Descriptor.from_dict(doc, path.parent)


def validate_model(
    path: Path, declared: Mapping[str, Any], limits: Limits | None = None
) -> ValidationResult:
    """READY with what was found, or FAILED with a reason; the file is opened in a child only."""
    limits = limits or Limits()
    started = time.perf_counter()
    try:
        declared_descriptor(path, declared)
    except DescriptorError as exc:
        return failed(f"the declaration is invalid: {exc}")
    with tempfile.TemporaryDirectory(prefix="prelabel-validation-") as tmp:
        request, answer, log = Path(tmp, "request.json"), Path(tmp, "result.json"), Path(tmp, "log")
        request.write_text(
            json.dumps({"path": str(path), "declared": dict(declared), "limits": asdict(limits)})
        )
        outcome = _run_child(request, answer, log, limits)
        wall_ms = round((time.perf_counter() - started) * 1000, 1)
        if outcome is not None:
            return replace(outcome, wall_ms=wall_ms)
        if answer.is_file():
            result = ValidationResult.from_json(json.loads(answer.read_text()))
            return replace(result, wall_ms=wall_ms)
        return _crashed(log, limits, wall_ms)


def _run_child(request: Path, answer: Path, log: Path, limits: Limits) -> ValidationResult | None:
    """Runs the checks; a result here means the child had to be killed."""
    command = [sys.executable, "-m", "prelabel_detector.validation", "--child", str(request)]
    with log.open("wb") as log_file:
        child = subprocess.Popen(
            [*command, str(answer)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **CHILD_THREADS_ENV},
            # Its own process group: the kill below reaches whatever it started too.
            start_new_session=True,
        )
        try:
            child.wait(timeout=limits.seconds)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            return failed(
                f"validation did not finish within {limits.seconds:g} s and was stopped: the "
                "model runs too long on one image (or never ends)"
            )
    return None


def _crashed(log: Path, limits: Limits, wall_ms: float) -> ValidationResult:
    tail = log.read_bytes()[-LOG_TAIL_BYTES:].decode(errors="replace")
    if "MemoryError" in tail or "bad_alloc" in tail or "Failed to allocate" in tail:
        reason = f"the model needs more than the {limits.memory_mb} MB memory limit"
    else:
        reason = "the model could not be opened: the validation process ended abruptly"
    return failed(reason, wall_ms=wall_ms, detail=tail or None)


def _limit_self(limits: Limits) -> None:
    memory = limits.memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # A backstop should the parent die before it can kill this process.
    cpu = int(limits.seconds * 2) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def _child(request_path: Path, answer_path: Path) -> int:
    request = json.loads(request_path.read_text())
    limits = Limits(**request["limits"])
    _limit_self(limits)
    try:
        # Imported under the limits: ONNX Runtime and onnx are what the file is fed to.
        from prelabel_detector.model_checks import check_model_file

        result = check_model_file(Path(request["path"]), request["declared"], limits)
    except MemoryError:
        result = failed(f"the model needs more than the {limits.memory_mb} MB memory limit")
    answer_path.write_text(json.dumps(result.to_json()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--child"] and len(args) == 3:
        return _child(Path(args[1]), Path(args[2]))
    parser = argparse.ArgumentParser(description="Validate an uploaded ONNX detector")
    parser.add_argument("model", type=Path)
    parser.add_argument("--declared", type=Path, required=True, help="JSON: family, ...")
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb)
    parser.add_argument("--seconds", type=float, default=Limits.seconds)
    parsed = parser.parse_args(args)
    limits = Limits(memory_mb=parsed.memory_mb, seconds=parsed.seconds)
    result = validate_model(parsed.model, json.loads(parsed.declared.read_text()), limits)
    print(json.dumps(result.to_json(), indent=2))
    return 0 if result.ready else 1


if __name__ == "__main__":
    sys.exit(main())
