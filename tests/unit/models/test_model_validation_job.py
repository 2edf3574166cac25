"""The validation job over the fakes: a file becomes the version of its sha256, READY with its
artifact or FAILED with the validator's reason; nothing is validated twice."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from prelabel.domain.detector_models import (
    MAX_MODEL_BYTES,
    ModelRef,
    VersionStatus,
    artifact_key,
    upload_key,
)
from prelabel.ports.detector_models import Verdict
from tests.unit.fakes.models import ScriptedValidator
from tests.unit.fakes.world import ORG, World
from tests.unit.models.builders import ready_model, spec, uploaded

WRONG_COUNT = "output 1x84x8400 fits 80 classes (YOLOv8 layout), the model declares 3"


def _submitted(world: World, data: bytes) -> tuple[ModelRef, str]:
    model, ticket = world.model_service.create(ORG, spec())
    ref = ModelRef(ORG, model.model_id)
    uploaded(world, ref, ticket.upload.upload_id, data)
    world.model_service.submit(ref, ticket.upload.upload_id)
    return ref, ticket.upload.upload_id


def test_a_ready_file_becomes_its_sha256_version_with_an_artifact_at_the_target_key() -> None:
    # Given a submitted upload the validator accepts
    world = World()
    ref, upload_id = _submitted(world, b"good model")
    # When the job runs
    upload = world.model_validation_job.run(ref, upload_id)
    # Then the version is the file's sha256, READY, with the validator's figures
    sha = hashlib.sha256(b"good model").hexdigest()
    version = world.models.get_version(ref, sha)
    assert upload.version == sha and upload.status is VersionStatus.READY
    assert version is not None and version.status is VersionStatus.READY
    assert version.size_bytes == len(b"good model") and version.validation.figures == {
        "layout": "v8"
    }
    # And its artifact lies at {org}/{model}/{sha}.tar.gz under the endpoint's prefix, the
    # uploaded object is gone, and the validator saw the declaration's file once
    key = artifact_key(ORG, ref.model_id, sha)
    assert key == f"artifacts/{ORG}/{ref.model_id}/{sha}.tar.gz"
    assert key in world.model_files.objects
    assert upload_key(ref, upload_id) not in world.model_files.objects
    assert world.validator.validated == [b"good model"]
    assert world.models.get(ref).latest_ready == sha


def test_a_refused_file_is_failed_with_the_validators_reason_and_no_artifact() -> None:
    # Given a file the validator refuses (wrong class count)
    world = World(validator=_refusing(WRONG_COUNT))
    ref, upload_id = _submitted(world, b"80-class model")
    # When the job runs
    upload = world.model_validation_job.run(ref, upload_id)
    # Then the version is FAILED with the reason, nothing is packaged, no READY default
    version = world.models.get_version(ref, upload.version or "")
    assert version is not None and version.status is VersionStatus.FAILED
    assert version.validation.reason == WRONG_COUNT and upload.reason == WRONG_COUNT
    assert not [k for k in world.model_files.objects if k.startswith("artifacts/")]
    assert world.models.get(ref).latest_ready is None


def test_the_same_file_again_is_the_existing_version_and_is_not_validated_twice() -> None:
    # Given a model with a READY version
    world = World()
    ref, sha = ready_model(world, data=b"same bytes")
    # When the same file is uploaded and submitted again
    ticket = world.model_service.new_upload(ref)
    uploaded(world, ref, ticket.upload.upload_id, b"same bytes")
    world.model_service.submit(ref, ticket.upload.upload_id)
    again = world.model_validation_job.run(ref, ticket.upload.upload_id)
    # Then the upload names the existing version, READY; the validator ran once in all
    assert (again.version, again.status) == (sha, VersionStatus.READY)
    assert world.validator.validated == [b"same bytes"]
    assert len(world.models.versions(ref)) == 1


def test_a_repeated_invocation_changes_nothing() -> None:
    # Given a job that ran to its end
    world = World()
    ref, upload_id = _submitted(world, b"model")
    first = world.model_validation_job.run(ref, upload_id)
    # When the state machine invokes it again (a retry after a lost answer)
    second = world.model_validation_job.run(ref, upload_id)
    # Then the same upload, and still one validation
    assert first == second and len(world.validator.validated) == 1


def test_a_missing_file_and_a_file_over_512_mb_fail_before_anything_opens_them() -> None:
    # Given one upload whose object vanished and one over the limit
    world = World()
    missing_ref, missing = _submitted(world, b"x")
    world.model_files.objects.pop(upload_key(missing_ref, missing))
    big_ref, big = _submitted(world, b"y")
    world.model_files.objects[upload_key(big_ref, big)] = b"\0" * (MAX_MODEL_BYTES + 1)
    # When their jobs run
    gone = world.model_validation_job.run(missing_ref, missing)
    huge = world.model_validation_job.run(big_ref, big)
    # Then both end FAILED with why, without a version, and the validator saw neither
    assert (gone.status, gone.version) == (VersionStatus.FAILED, None)
    assert gone.reason is not None and "no file arrived" in gone.reason
    assert (huge.status, huge.version) == (VersionStatus.FAILED, None)
    assert huge.reason == "the file has 536,870,913 bytes; the limit is 536,870,912 (512 MB)"
    assert world.validator.validated == []


def test_a_job_that_kept_failing_fails_its_upload_and_the_same_file_can_be_tried_again() -> None:
    # Given a job that read the file (its version begun) and then crashed in the validator
    world = World(validator=_crashing())
    ref, upload_id = _submitted(world, b"model")
    with pytest.raises(RuntimeError, match="the worker died"):
        world.model_validation_job.run(ref, upload_id)
    # When the state machine's last resort records the failure
    failed = world.model_validation_job.fail(ref, upload_id, "Lambda.Timeout: 900 s")
    # Then the upload is FAILED with that, and no version holds the sha256
    assert failed.status is VersionStatus.FAILED
    assert failed.reason == "the validation job failed: Lambda.Timeout: 900 s"
    assert world.models.versions(ref) == []
    # And the same file uploaded again is validated afresh, READY this time
    world.validator.verdict = lambda _: Verdict(True)
    ticket = world.model_service.new_upload(ref)
    uploaded(world, ref, ticket.upload.upload_id, b"model")
    world.model_service.submit(ref, ticket.upload.upload_id)
    assert world.model_validation_job.run(ref, ticket.upload.upload_id).status.value == "READY"


def test_the_artifact_is_what_the_validator_packaged() -> None:
    # Given a READY version
    world = World()
    ref, sha = ready_model(world, data=b"packaged")
    # When its artifact is opened
    data = world.model_files.objects[artifact_key(ORG, ref.model_id, sha)]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile("model.onnx")
        # Then it holds the uploaded bytes
        assert member is not None and member.read() == b"packaged"


def _refusing(reason: str) -> ScriptedValidator:
    return ScriptedValidator(verdict=lambda _: Verdict(False, reason, {"layout": None}))


def _crashing() -> ScriptedValidator:
    def crash(_: bytes) -> Verdict:
        raise RuntimeError("the worker died")

    return ScriptedValidator(verdict=crash)
