"""A project picks its detector: the mapping's classes are the model's, a switch keeps the rows
whose class the new model has and names those it drops; runs use what the project picked."""

from __future__ import annotations

import dataclasses

import pytest

from prelabel.detector_wire import Detection
from prelabel.domain.detector_models import ModelPick, ModelRef, target_model
from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import Conflict, InvalidInput, NotFound
from prelabel.domain.mapping import MappingRowInput
from prelabel.ports.detector import DetectorUnavailable
from prelabel.ports.detector_models import Verdict
from tests.unit.fakes.models import ScriptedValidator
from tests.unit.fakes.outside import ScriptedDetector
from tests.unit.fakes.world import ORG, World
from tests.unit.models.builders import ready_model, spec, submit_and_validate

# The world's project maps car -> Vehicle and person -> Person (COCO ids 2 and 0).
TRUCKS = ("person", "truck", "car")


def _switched_to_trucks(world: World) -> tuple[ProjectRef, ModelRef, str]:
    project = world.project(waiting=2)
    ref, version = ready_model(world, model_spec=spec("Trucks", TRUCKS))
    return project, ref, version


def test_switching_keeps_the_rows_the_new_model_has_reindexed_and_names_the_dropped() -> None:
    # Given a project mapping car and person, and a model whose classes are worker, forklift,
    # pallet (none of those)
    world = World()
    project = world.project(waiting=1)
    ref, version = ready_model(world)
    # When the project picks the model (its latest READY version)
    switched = world.project_detector_service.switch(project, ref.model_id, None)
    # Then both rows are dropped and named, the project's model and classes are the model's
    assert [r.class_name for r in switched.dropped] == ["car", "person"]
    after = world.projects.get(project)
    assert after.mapping.rows == ()
    assert after.model == ModelPick(ref.model_id, version, "Forklifts")
    assert world.project_detector_service.current(project).classes.names == (
        "worker",
        "forklift",
        "pallet",
    )
    # And the model knows the project uses it
    assert world.models.get(ref).used_by == {project.project_id}


def test_rows_whose_class_the_new_model_has_are_kept_at_its_index() -> None:
    # Given a project mapping car (COCO 2) and person (COCO 0) with thresholds
    world = World()
    project, ref, _ = _switched_to_trucks(world)
    world.project_service.replace_mapping(
        project,
        [MappingRowInput("car", "veh", 0.3), MappingRowInput("person", "per", None)],
        0.5,
    )
    # When it picks a model whose classes are person, truck, car
    switched = world.project_detector_service.switch(project, ref.model_id, None)
    # Then both rows stay, re-indexed to the model's list, thresholds kept, nothing dropped
    rows = world.projects.get(project).mapping.rows
    assert [(r.class_id, r.class_name, r.entry_id, r.min_confidence) for r in rows] == [
        (2, "car", "veh", 0.3),
        (0, "person", "per", None),
    ]
    assert switched.dropped == ()


def test_the_mapping_resolves_classes_against_the_projects_model() -> None:
    # Given a project on the Trucks model
    world = World()
    project, ref, _ = _switched_to_trucks(world)
    world.project_detector_service.switch(project, ref.model_id, None)
    # When a row names a class the model has (by name, by id) and one it does not
    saved = world.project_service.replace_mapping(
        project, [MappingRowInput("truck", "veh"), MappingRowInput(2, "per")], None
    )
    # Then the ids are the model's indexes
    assert [(r.class_id, r.class_name) for r in saved.mapping.rows] == [(1, "truck"), (2, "car")]
    with pytest.raises(
        InvalidInput, match=r"rows\[0\].detector_class: unknown detector class 'dog'"
    ):
        world.project_service.replace_mapping(project, [MappingRowInput("dog", "veh")], None)
    with pytest.raises(InvalidInput, match=r"class id 3 \(valid: 0-2\)"):
        world.project_service.replace_mapping(project, [MappingRowInput(3, "veh")], None)


def test_back_to_the_builtin_keeps_coco_names_and_the_aliases_work_again() -> None:
    # Given a project on the Trucks model mapping truck
    world = World()
    project, ref, _ = _switched_to_trucks(world)
    world.project_detector_service.switch(project, ref.model_id, None)
    world.project_service.replace_mapping(project, [MappingRowInput("truck", "veh")], None)
    # When it goes back to the built-in
    switched = world.project_detector_service.switch(project, "builtin:coco80", None)
    # Then truck is kept at COCO id 7, the model no longer counts the project, aliases resolve
    assert [(r.class_id, r.class_name) for r in world.projects.get(project).mapping.rows] == [
        (7, "truck")
    ]
    assert switched.dropped == () and world.projects.get(project).model is None
    assert world.models.get(ref).used_by == frozenset()
    saved = world.project_service.replace_mapping(
        project, [MappingRowInput("motorbike", "veh")], None
    )
    assert saved.mapping.rows[0].class_name == "motorcycle"


def test_a_switch_is_refused_while_a_run_is_active_and_for_unready_versions() -> None:
    # Given a project with an active run, and a model whose only version FAILED
    world = World(validator=_refusing())
    project = world.project(waiting=2)
    model, ticket = world.model_service.create(ORG, spec())
    ref = ModelRef(ORG, model.model_id)
    failed = submit_and_validate(world, ref, ticket.upload.upload_id, b"bad")
    # When the project picks it: no READY version, and the FAILED one named
    with pytest.raises(Conflict, match="no READY version"):
        world.project_detector_service.switch(project, ref.model_id, None)
    with pytest.raises(Conflict, match="is FAILED; only a READY version"):
        world.project_detector_service.switch(project, ref.model_id, failed)
    with pytest.raises(InvalidInput, match="has no version"):
        world.project_detector_service.switch(project, ref.model_id, "0" * 64)
    # And while a run is active, nothing can change
    world.run_service.start(project, confirm=True)
    with pytest.raises(Conflict, match="run is active"):
        world.project_detector_service.switch(project, "builtin:coco80", None)


def test_a_project_cannot_pick_another_organizations_model_by_its_id() -> None:
    # Given rival's READY model, and acme's project
    world = World()
    rival, _ = ready_model(world, org="rival")
    project = world.project(waiting=1)
    # When acme's project names rival's model id (copied, or guessed)
    with pytest.raises(NotFound, match=f"model '{rival.model_id}' not found"):
        world.project_detector_service.switch(project, rival.model_id, None)
    # Then nothing changed: the built-in stays, rival's model counts no project of acme's
    assert world.projects.get(project).model is None
    assert world.models.get(rival).used_by == frozenset()


def test_a_run_names_the_models_target_and_keeps_name_and_version_on_every_prelabel() -> None:
    # Given a project on the Trucks model mapping car, and an endpoint serving that version
    world = World()
    project, ref, version = _switched_to_trucks(world)
    world.project_detector_service.switch(project, ref.model_id, None)
    world.project_service.replace_mapping(project, [MappingRowInput("car", "veh")], None)
    target = target_model(ORG, ref.model_id, version)
    world.detector.answer = lambda _: [Detection(2, "car", 0.9, (10.0, 10.0, 40.0, 40.0))]
    world.detector.served[target] = ("Trucks", version)
    # When a run pre-labels its tasks
    run_id = world.run_service.start(project, confirm=True).run.run_id  # type: ignore[union-attr]
    world.prepare(project, run_id)
    world.run_all(run_id)
    # Then every call named the version's TargetModel under the run's own organization, the
    # run's snapshot records model and version, and every pre-label keeps them
    assert world.detector.targets == [target]
    assert target == f"{ORG}/{ref.model_id}/{version}.tar.gz"
    assert world.runs.snapshot(project, run_id).model == ModelPick(ref.model_id, version, "Trucks")
    labels = [lbl for i in range(2) for lbl in world.tasks.get(project, f"t{i:04d}").labels]
    assert labels and {(lbl.model_name, lbl.model_version) for lbl in labels} == {
        ("Trucks", version)
    }
    assert {lbl.detector_class for lbl in labels} == {"car"}


def test_a_builtin_project_calls_without_target_model() -> None:
    # Given a project on the built-in; When a run pre-labels it
    world = World()
    project = world.project(waiting=1)
    run_id = world.run_service.start(project, confirm=True).run.run_id  # type: ignore[union-attr]
    world.prepare(project, run_id)
    world.run_all(run_id)
    # Then the endpoint was asked without TargetModel
    assert world.detector.targets == [None]


def test_an_answer_from_another_model_version_is_refused_and_nothing_is_written() -> None:
    # Given a project on a model, and an endpoint that answers with another version
    world = World(detector=ScriptedDetector(answer=lambda _: []))
    project, ref, _ = _switched_to_trucks(world)
    world.project_detector_service.switch(project, ref.model_id, None)
    world.project_service.replace_mapping(project, [MappingRowInput("car", "veh")], None)
    run_id = world.run_service.start(project, confirm=True).run.run_id  # type: ignore[union-attr]
    world.prepare(project, run_id)
    # When its batch is processed
    item = world.batches_of(run_id)[0]
    with pytest.raises(DetectorUnavailable, match="was answered by model version '1'"):
        world.worker.label_batch(item)
    # Then nothing was committed or charged
    assert world.db.commits == []
    assert world.tasks.get(project, "t0000").prelabel_state is None


def _refusing() -> ScriptedValidator:
    return ScriptedValidator(verdict=lambda _: Verdict(False, "wrong class count"))


def test_a_snapshot_naming_another_organizations_model_still_targets_the_runs_own_org() -> None:
    # Given rival's READY model, and acme's run whose snapshot was made to name it (as a bug or
    # a hand-edited record might leave it)
    world = World(detector=ScriptedDetector(answer=lambda _: []))
    rival, version = ready_model(world, org="rival", model_spec=spec("Rival", TRUCKS))
    project = world.project(waiting=1)
    run_id = world.run_service.start(project, confirm=True).run.run_id  # type: ignore[union-attr]
    world.prepare(project, run_id)
    snapshot = world.db.snapshots[(project, run_id)]
    planted = ModelPick(rival.model_id, version, "Rival")
    world.db.snapshots[(project, run_id)] = dataclasses.replace(snapshot, model=planted)
    world.detector.served[target_model("rival", rival.model_id, version)] = ("Rival", version)
    # When the batch is processed
    with pytest.raises(DetectorUnavailable):
        world.worker.label_batch(world.batches_of(run_id)[0])
    # Then the endpoint was asked for acme's key (which holds no such artifact), never rival's,
    # and nothing was written
    assert world.detector.targets == [f"{ORG}/{rival.model_id}/{version}.tar.gz"]
    assert world.db.commits == []
