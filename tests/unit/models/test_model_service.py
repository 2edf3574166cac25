"""Models as an organization's resource, over the fakes: declare, upload, start validation,
read, delete; another organization's model does not exist for the caller."""

from __future__ import annotations

import hashlib

import pytest

from prelabel.domain.detector_models import (
    MAX_MODEL_BYTES,
    Channels,
    ModelFamily,
    ModelRef,
    Normalisation,
    VersionStatus,
    artifact_key,
    checked_spec,
    upload_key,
)
from prelabel.domain.errors import Conflict, InvalidInput, NotFound
from tests.unit.fakes.world import ORG, World
from tests.unit.models.builders import FORKLIFTS, ready_model, spec, uploaded


def test_create_answers_the_model_and_a_form_for_exactly_one_key_of_the_org() -> None:
    # Given an organization
    world = World()
    # When it declares a model
    model, ticket = world.model_service.create(ORG, spec())
    # Then the model holds the declaration, and the form is for one key under its own prefix,
    # up to 512 MB, for a short while
    assert model.spec.classes == FORKLIFTS and model.org_id == ORG
    ref = ModelRef(ORG, model.model_id)
    assert ticket.form.key == upload_key(ref, ticket.upload.upload_id)
    assert ticket.form.key.startswith(f"uploads/{ORG}/{model.model_id}/")
    assert ticket.form.max_bytes == MAX_MODEL_BYTES == 512 * 1024 * 1024
    assert ticket.form.expires_in <= 900
    assert ticket.upload.status is VersionStatus.UPLOADING
    # And nothing is validated until the client says the file is there
    assert world.validation_orchestrator.started == []


@pytest.mark.parametrize(
    ("classes", "field"),
    [
        ([], "classes"),
        (["a"] * 2, "classes[1]"),
        ([f"c{i}" for i in range(1001)], "classes"),
        (["x" * 129], "classes[0]"),
        (["  "], "classes[0]"),
        ([f"{i:03d}" + "n" * 60 for i in range(1000)], "classes"),
    ],
)
def test_a_declaration_with_bad_classes_is_refused_naming_the_field(
    classes: list[str], field: str
) -> None:
    # Given class names a model cannot have (none, twice, 1,001, too long, blank, 64,000
    # characters in all); When declared; Then InvalidInput names the field
    with pytest.raises(InvalidInput) as refused:
        checked_spec("M", ModelFamily.YOLOX, [416, 416], Normalisation(), classes)
    assert refused.value.field == field


def test_a_thousand_class_names_of_48_characters_are_accepted() -> None:
    # Given 1,000 names of 48 characters (what fits the API's 64 KiB body)
    names = [f"{i:04d}" + "x" * 44 for i in range(1000)]
    # When declared; Then accepted, in order
    declared = checked_spec("M", ModelFamily.YOLOX, [416, 416], Normalisation(), names)
    assert declared.classes == tuple(names)


def test_bad_sizes_and_normalisation_are_refused_naming_the_field() -> None:
    # Given a zero scale, a pad of 300, an input of 8 pixels
    def declare(size: list[int], norm: Normalisation) -> None:
        checked_spec("M", ModelFamily.YOLOX, size, norm, ["a"])

    cases = [
        ([416, 416], Normalisation(scale=(1.0, 0.0, 1.0)), "normalisation.scale"),
        ([416, 416], Normalisation(pad=300), "normalisation.pad"),
        ([8, 416], Normalisation(), "input_size[0]"),
        ([416, 416], Normalisation(mean=(float("nan"), 0.0, 0.0)), "normalisation.mean"),
    ]
    for size, norm, field in cases:
        # When declared; Then refused, naming the field
        with pytest.raises(InvalidInput) as refused:
            declare(size, norm)
        assert refused.value.field == field


def test_submit_refuses_an_upload_whose_file_has_not_arrived_and_starts_nothing() -> None:
    # Given a declared model whose file was never posted
    world = World()
    model, ticket = world.model_service.create(ORG, spec())
    ref = ModelRef(ORG, model.model_id)
    # When the client says it is done
    with pytest.raises(Conflict, match="no file has arrived"):
        world.model_service.submit(ref, ticket.upload.upload_id)
    # Then no job started, and the upload still waits for its file
    assert world.validation_orchestrator.started == []
    assert world.models.get_upload(ref, ticket.upload.upload_id).status is VersionStatus.UPLOADING


def test_submit_starts_one_validation_job_however_often_it_is_called() -> None:
    # Given a declared model whose file is in S3
    world = World()
    model, ticket = world.model_service.create(ORG, spec())
    ref = ModelRef(ORG, model.model_id)
    uploaded(world, ref, ticket.upload.upload_id, b"model")
    # When the client says so twice
    first = world.model_service.submit(ref, ticket.upload.upload_id)
    again = world.model_service.submit(ref, ticket.upload.upload_id)
    # Then one job started, keyed by the upload, carrying the org, model and upload
    assert first.status is again.status is VersionStatus.VALIDATING
    assert [name for name, _ in world.validation_orchestrator.started] == [ticket.upload.upload_id]
    payload = world.validation_orchestrator.started[0][1]
    assert payload == {
        "upload": {"orgId": ORG, "modelId": model.model_id, "uploadId": ticket.upload.upload_id}
    }
    assert again.execution_arn == f"arn:exec:{ticket.upload.upload_id}"


def test_a_job_that_did_not_start_leaves_the_upload_to_submit_again() -> None:
    # Given the workflow refuses to start
    world = World()
    model, ticket = world.model_service.create(ORG, spec())
    ref = ModelRef(ORG, model.model_id)
    uploaded(world, ref, ticket.upload.upload_id, b"model")
    world.validation_orchestrator.refuse_start = True
    # When submitted
    with pytest.raises(Exception, match="throttled"):
        world.model_service.submit(ref, ticket.upload.upload_id)
    # Then the upload is UPLOADING again, and a second try starts the job
    assert world.models.get_upload(ref, ticket.upload.upload_id).status is VersionStatus.UPLOADING
    world.validation_orchestrator.refuse_start = False
    assert world.model_service.submit(ref, ticket.upload.upload_id).status.value == "VALIDATING"


def test_detail_lists_versions_and_the_pending_uploads_and_a_new_file_is_a_new_version() -> None:
    # Given a model with a READY version
    world = World()
    ref, first = ready_model(world, data=b"weights-1")
    # When another file is uploaded and validated, and a third is only declared
    ticket = world.model_service.new_upload(ref)
    uploaded(world, ref, ticket.upload.upload_id, b"weights-2")
    world.model_service.submit(ref, ticket.upload.upload_id)
    world.model_validation_job.run(ref, ticket.upload.upload_id)
    waiting = world.model_service.new_upload(ref)
    detail = world.model_service.detail(ref)
    # Then two versions, named by their files' sha256, both READY, the newest the default;
    # the uploads name their versions, the third one still UPLOADING
    second = hashlib.sha256(b"weights-2").hexdigest()
    assert first == hashlib.sha256(b"weights-1").hexdigest()
    assert [(v.version, v.status.value) for v in detail.versions] == [
        (first, "READY"),
        (second, "READY"),
    ]
    assert detail.model.latest_ready == second
    assert [(u.version, u.status.value) for u in detail.uploads] == [
        (first, "READY"),
        (second, "READY"),
        (None, "UPLOADING"),
    ]
    assert detail.uploads[-1].upload_id == waiting.upload.upload_id


def test_a_job_that_ended_elsewhere_fails_its_upload_when_read() -> None:
    # Given an upload whose validation execution was stopped from the console
    world = World()
    model, ticket = world.model_service.create(ORG, spec())
    ref = ModelRef(ORG, model.model_id)
    uploaded(world, ref, ticket.upload.upload_id, b"model")
    upload = world.model_service.submit(ref, ticket.upload.upload_id)
    assert upload.execution_arn is not None
    world.validation_orchestrator.states[upload.execution_arn] = "ABORTED"
    # When the model is read
    detail = world.model_service.detail(ref)
    # Then the upload shows FAILED with why
    assert [(u.status.value, u.reason) for u in detail.uploads] == [
        ("FAILED", "the validation job ended ABORTED")
    ]


def test_another_organizations_model_does_not_exist_for_the_caller() -> None:
    # Given acme's model with a READY version
    world = World()
    ref, _ = ready_model(world)
    stolen = ModelRef("rival", ref.model_id)
    # When rival reads it, asks for a form, submits acme's upload or deletes it
    calls = [
        lambda: world.model_service.detail(stolen),
        lambda: world.model_service.new_upload(stolen),
        lambda: world.model_service.submit(stolen, "upl_x"),
        lambda: world.model_service.delete(stolen),
    ]
    # Then each is NotFound, with the words an absent id gets
    for call in calls:
        with pytest.raises(NotFound, match=f"model '{ref.model_id}' not found"):
            call()
    assert world.model_service.list_models("rival") == []
    assert world.models.get(ref).model_id == ref.model_id


def test_delete_is_refused_while_a_project_uses_the_model_then_removes_records_and_files() -> None:
    # Given a READY model picked by a project
    world = World()
    ref, version = ready_model(world)
    project = world.project(waiting=1)
    world.project_detector_service.switch(project, ref.model_id, None)
    assert world.model_files.objects[artifact_key(ORG, ref.model_id, version)]
    # When it is deleted
    with pytest.raises(Conflict, match=f"used by 1 project\\(s\\) \\({project.project_id}\\)"):
        world.model_service.delete(ref)
    # Then nothing went; once the project picks the built-in again, the delete removes the
    # model, its records and its files
    world.project_detector_service.switch(project, "builtin:coco80", None)
    removed = world.model_service.delete(ref)
    assert removed == 1
    assert world.model_files.objects == {}
    with pytest.raises(NotFound):
        world.model_service.detail(ref)


def test_built_in_detectors_cannot_be_changed() -> None:
    # Given the built-in COCO detector; When deleted or given a file; Then 409 (Conflict)
    world = World()
    builtin = ModelRef(ORG, "builtin:coco80")
    for call in (
        lambda: world.model_service.delete(builtin),
        lambda: world.model_service.new_upload(builtin),
    ):
        with pytest.raises(Conflict, match="built-in"):
            call()


def test_channels_and_resize_reach_the_validators_declaration() -> None:
    # Given a model declared RGB, centred letterbox
    world = World()
    model, _ = world.model_service.create(ORG, spec())
    # When its declaration is made for the validator
    declared = model.spec.declaration()
    # Then it reads as the detector's descriptor does
    assert declared["normalisation"] == {
        "mean": [0.0, 0.0, 0.0],
        "scale": [1 / 255] * 3,
        "channels": Channels.RGB.value,
        "resize": "letterbox-center",
        "pad": 114,
    }
    assert declared["classes"] == list(FORKLIFTS) and declared["input_size"] == [640, 640]
