"""The models routes and a project's detector on DynamoDB Local: the built-ins listed beside the
organization's own, the body limit and 1,000 classes, a pick kept with the model's used_by in
one transaction (delete refused while used), the mapping re-indexed and the dropped rows named."""

from __future__ import annotations

import hashlib

import pytest

from prelabel.container import Container
from prelabel.domain.detector_classes import COCO_CLASS_NAMES
from prelabel.domain.detector_models import (
    Channels,
    ModelFamily,
    ModelRef,
    ModelVersion,
    Normalisation,
    Validation,
    VersionStatus,
    checked_spec,
)
from prelabel.domain.ids import now_iso
from tests.integration.core.api_client import call

pytestmark = pytest.mark.integration
ORG = "org-routes"
CONFIG = [
    {"id": "veh", "name": "Vehicle", "geometry": "bbox"},
    {"id": "per", "name": "Person", "geometry": "bbox"},
]
TRUCKS = ["person", "truck", "car", "forklift"]


def ready_record(ports: Container, org: str, classes: list[str], name: str = "Trucks") -> str:
    """A model with a READY version, written as the validation job leaves it (records only)."""
    spec = checked_spec(
        name,
        ModelFamily.ULTRALYTICS,
        [640, 640],
        Normalisation((0.0, 0.0, 0.0), (1 / 255,) * 3, Channels.RGB),
        classes,
    )  # type: ignore[arg-type]
    model, ticket = ports.model_service.create(org, spec)
    ref = ModelRef(org, model.model_id)
    sha = hashlib.sha256(name.encode()).hexdigest()
    begun = ModelVersion(model.model_id, sha, VersionStatus.VALIDATING, 10, now_iso(),
                         ticket.upload.upload_id)  # fmt: skip
    ports.models.begin_version(ref, begun)
    assert ports.models.finish_version(
        ref, sha, True, Validation(None, {"layout": "v8"}), now_iso()
    )
    return model.model_id


@pytest.fixture
def org(make_org) -> str:  # type: ignore[no-untyped-def]
    return str(make_org(ORG))


def _project(org: str) -> str:
    body = {"name": "Yard", "label_config": CONFIG}
    project_id = str(call("POST", "/projects", org, body).body["project_id"])
    rows = [
        {"detector_class": "car", "entry_id": "veh", "min_confidence": 0.4},
        {"detector_class": "person", "entry_id": "per"},
        {"detector_class": "dog", "entry_id": "per"},
    ]
    assert call("PUT", f"/projects/{project_id}/mapping", org, {"rows": rows}).status == 200
    return project_id


def test_the_list_holds_the_builtins_first_then_the_organizations_own(
    ports: Container, org: str
) -> None:
    # Given one model of the organization
    model_id = ready_record(ports, org, TRUCKS)
    # When the models are listed and the built-in is read
    listed = call("GET", "/models", org).body["models"]
    builtin = call("GET", "/models/builtin:coco80", org).body
    # Then the built-in comes first, read-only, with COCO-80; then the own model, READY
    assert [(m["model_id"], m["builtin"]) for m in listed] == [
        ("builtin:coco80", True),
        (model_id, False),
    ]
    assert listed[1]["latest_ready"] and listed[1]["class_count"] == 4
    assert builtin["classes"] == list(COCO_CLASS_NAMES) and builtin["versions"] == []
    assert call("DELETE", "/models/builtin:coco80", org).status == 409


def test_a_thousand_class_names_fit_the_body_and_longer_ones_are_refused_by_size(
    org: str,
) -> None:
    # Given 1,000 class names of 48 characters, and 1,000 of 70
    short = [f"{i:04d}" + "c" * 44 for i in range(1000)]
    long = [f"{i:04d}" + "c" * 66 for i in range(1000)]
    body = {"name": "Many", "family": "yolox", "input_size": [416, 416]}
    # When each is declared
    ok = call("POST", "/models", org, {**body, "classes": short})
    too_big = call("POST", "/models", org, {**body, "classes": long})
    # Then the first is created with every name, in order; the second is over 64 KiB (413)
    assert ok.status == 201, ok.body
    assert ok.body["model"]["classes"] == short
    assert ok.body["upload"]["form"]["max_bytes"] == 512 * 1024 * 1024
    assert too_big.status == 413 and "65536" in too_big.message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"classes": ["a", "a"]}, "classes[1]"),
        ({"classes": []}, "classes"),
        ({"input_size": [416]}, "input_size"),
        ({"normalisation": {"scale": [1, 1]}}, "normalisation.scale"),
        ({"normalisation": {"scale": 0}}, "normalisation.scale"),
        ({"family": "detr"}, "family"),
        ({"normalisation": {"channels": "GRB"}}, "normalisation.channels"),
        ({"org_id": "someone-else"}, "org_id"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_field(org: str, change: dict, field: str) -> None:  # type: ignore[type-arg]
    # Given a declaration with one wrong part
    body = {"name": "M", "family": "yolox", "input_size": [416, 416], "classes": ["a"], **change}
    # When it is posted; Then 400 or 422 naming that field, and no model exists
    reply = call("POST", "/models", org, body)
    assert reply.status in (400, 422), reply.body
    assert reply.body["field"] == field, reply.body
    assert [m["builtin"] for m in call("GET", "/models", org).body["models"]] == [True]


def test_a_project_picks_a_model_keeps_its_rows_and_the_model_cannot_go_while_used(
    ports: Container, org: str
) -> None:
    # Given a project mapping car (0.4), person and dog, and a READY model of person, truck,
    # car, forklift
    project_id = _project(org)
    model_id = ready_record(ports, org, TRUCKS)
    # When the project picks it
    switched = call("PUT", f"/projects/{project_id}/detector", org, {"model_id": model_id})
    # Then car and person stay (re-indexed to 2 and 0), dog is dropped and named
    assert switched.status == 200, switched.body
    assert switched.body["changed"] and switched.body["kept"] == 2
    assert [(d["detector_class"], d["entry_id"]) for d in switched.body["dropped"]] == [
        ("dog", "per")
    ]
    mapping = call("GET", f"/projects/{project_id}/mapping", org).body
    assert [(r["detector_class"], r["class_id"], r["min_confidence"]) for r in mapping["rows"]] == [
        ("car", 2, 0.4),
        ("person", 0, None),
    ]
    # And the project's classes are the model's, for the mapping editor
    detector = call("GET", f"/projects/{project_id}/detector", org).body
    assert detector["model_id"] == model_id and not detector["builtin"]
    assert [c["name"] for c in detector["classes"]] == TRUCKS
    # When the model is deleted while used; Then 409 naming the project, and it stays
    refused = call("DELETE", f"/models/{model_id}", org)
    assert refused.status == 409 and project_id in refused.message
    assert call("GET", f"/models/{model_id}", org).body["used_by"] == [project_id]
    # When the project goes back to the built-in; Then the model is free and deletes
    back = call("PUT", f"/projects/{project_id}/detector", org, {"model_id": "builtin:coco80"})
    assert back.status == 200 and back.body["builtin"] and back.body["dropped"] == []
    deleted = call("DELETE", f"/models/{model_id}", org)
    assert deleted.status == 200, deleted.body
    assert call("GET", f"/models/{model_id}", org).status == 404


def test_a_pick_is_refused_while_a_run_is_active(ports: Container, org: str) -> None:
    # Given a project whose run is active (marked as a start leaves it)
    project_id = _project(org)
    model_id = ready_record(ports, org, TRUCKS)
    from prelabel.adapters.dynamodb.models import ProjectModel

    ProjectModel(org, project_id).update(actions=[ProjectModel.active_run_id.set("run_x")])
    # When it picks a model; Then 409, and the built-in and mapping stay
    reply = call("PUT", f"/projects/{project_id}/detector", org, {"model_id": model_id})
    assert reply.status == 409 and "run is active" in reply.message
    assert call("GET", f"/projects/{project_id}/detector", org).body["builtin"] is True
    assert call("GET", f"/models/{model_id}", org).body["used_by"] == []


def test_a_project_cannot_pick_another_organizations_model_guessed_or_copied(
    ports: Container, org: str, make_org
) -> None:  # type: ignore[no-untyped-def]
    # Given rival's READY model and its version, and org's project
    make_org("rival")
    rival_model = ready_record(ports, "rival", TRUCKS, "Rival")
    version = call("GET", f"/models/{rival_model}", "rival").body["latest_ready"]
    project_id = _project(org)
    # When org's project names rival's model id (with or without its version), or a guess
    for body in (
        {"model_id": rival_model},
        {"model_id": rival_model, "version": version},
        {"model_id": "mdl_guess"},
    ):
        reply = call("PUT", f"/projects/{project_id}/detector", org, body)
        # Then 404, with the words an absent model gets, and nothing changed
        assert reply.status == 404, reply.body
        assert reply.message == f"model {body['model_id']!r} not found"
    assert call("GET", f"/projects/{project_id}/detector", org).body["builtin"] is True
    assert call("GET", f"/models/{rival_model}", "rival").body["used_by"] == []
