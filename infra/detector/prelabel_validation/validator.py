"""The ModelValidator port over the detector's validation (a child process with memory and time
limits) and artifact packaging."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from prelabel.ports.detector_models import ModelValidator, Verdict
from prelabel_detector.artifact import build_model_artifact
from prelabel_detector.validation import Limits, validate_model

# Overrides of the child's limits (tests and small deployments); the defaults are the
# detector's (4 GB of address space, 120 s).
MEMORY_ENV = "PRELABEL_VALIDATION_MEMORY_MB"
SECONDS_ENV = "PRELABEL_VALIDATION_SECONDS"


def limits_from(env: Mapping[str, str]) -> Limits:
    defaults = Limits()
    return Limits(
        memory_mb=int(env.get(MEMORY_ENV) or defaults.memory_mb),
        seconds=float(env.get(SECONDS_ENV) or defaults.seconds),
    )


class DetectorValidator(ModelValidator):
    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    def validate(self, path: Path, declaration: Mapping[str, object]) -> Verdict:
        # Never raises for a bad file: whatever the file does, it does in the child.
        result = validate_model(path, declaration, self.limits)
        return Verdict(result.ready, result.reason, result.to_json())

    def package(
        self,
        path: Path,
        declaration: Mapping[str, object],
        name: str,
        version: str,
        out: Path,
    ) -> Path:
        return build_model_artifact(path, declaration, name, version, out)
