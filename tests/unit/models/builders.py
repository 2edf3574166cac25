"""An organization's model in a unit World: declared, uploaded and validated through the real
services over the fakes."""

from __future__ import annotations

from prelabel.domain.detector_models import (
    Channels,
    ModelFamily,
    ModelRef,
    ModelSpec,
    Normalisation,
    ResizeMode,
    checked_spec,
    upload_key,
)
from tests.unit.fakes.world import ORG, World

FORKLIFTS = ("worker", "forklift", "pallet")
RGB_UNIT = Normalisation(
    (0.0, 0.0, 0.0), (1 / 255, 1 / 255, 1 / 255), Channels.RGB, ResizeMode.LETTERBOX_CENTER
)


def spec(name: str = "Forklifts", classes: tuple[str, ...] = FORKLIFTS) -> ModelSpec:
    return checked_spec(name, ModelFamily.ULTRALYTICS, [640, 640], RGB_UNIT, list(classes))


def uploaded(world: World, ref: ModelRef, upload_id: str, data: bytes) -> None:
    """What the client's POST to the form leaves in S3."""
    world.model_files.objects[upload_key(ref, upload_id)] = data


def ready_model(
    world: World,
    *,
    org: str = ORG,
    data: bytes = b"onnx-bytes-1",
    model_spec: ModelSpec | None = None,
) -> tuple[ModelRef, str]:
    """A model with one READY version (the validation job run as the state machine runs it);
    its ref and the version's sha256."""
    model, ticket = world.model_service.create(org, model_spec or spec())
    ref = ModelRef(org, model.model_id)
    version = submit_and_validate(world, ref, ticket.upload.upload_id, data)
    return ref, version


def submit_and_validate(world: World, ref: ModelRef, upload_id: str, data: bytes) -> str:
    uploaded(world, ref, upload_id, data)
    world.model_service.submit(ref, upload_id)
    upload = world.model_validation_job.run(ref, upload_id)
    assert upload.version is not None, upload
    return upload.version
