"""The child process of a validation: caps its own memory and CPU, then opens the file.

    python -m prelabel_detector.validation_child request.json answer.json

Run by validation.validate_model only; ONNX Runtime and onnx are imported here, under the
limits, so the parent never loads what the file is fed to.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from prelabel_detector.validation_result import Limits, failed


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


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m prelabel_detector.validation_child REQUEST ANSWER")
    sys.exit(_child(Path(sys.argv[1]), Path(sys.argv[2])))
