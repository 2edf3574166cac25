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
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from prelabel_detector.descriptor import DescriptorError
from prelabel_detector.validation_result import (
    FAILED,
    READY,
    Limits,
    TensorSummary,
    ValidationResult,
    declared_descriptor,
    failed,
)

__all__ = [
    "FAILED",
    "READY",
    "Limits",
    "TensorSummary",
    "ValidationResult",
    "declared_descriptor",
    "failed",
    "validate_model",
]

# Numeric libraries reserve address space per thread; the checks need one.
CHILD_THREADS_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
LOG_TAIL_BYTES = 2000


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
    command = [sys.executable, "-m", "prelabel_detector.validation_child", str(request)]
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


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
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
