"""Domain services over in-memory ports: datasets, task moves, start rules, monthly reset."""

from __future__ import annotations

import dataclasses

import pytest

from prelabel.domain.dataset_sources import DatasetSource
from prelabel.domain.entities import (
    Dataset,
    DatasetStatus,
    LabelingState,
    PrelabelState,
    Run,
    RunCounters,
    RunStatus,
)
from prelabel.domain.errors import Conflict, InvalidInput, NotFound
from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.domain.locations import DataLocation, OrgLocations
from prelabel.domain.mapping import MappingRowInput
from prelabel.domain.plans import DEFAULT_MONTHLY_LIMITS, Plan
from prelabel.services.assistant import AssistantService
from prelabel.services.organizations import MonthlyReset, OrganizationAdmin
from tests.unit.fakes.store import Prelabel
from tests.unit.fakes.world import World

CONFIG = [LabelEntry("veh", "Vehicle", Geometry.BBOX), LabelEntry("r", "Road", Geometry.POLYGON)]


@pytest.fixture
def world() -> dict[str, object]:
    w = World(bucket="bkt")
    for i in range(5):
        w.objects.put("bkt", f"o1/cars/{i}.jpg", b"jpeg")
    OrganizationAdmin(w.orgs, DEFAULT_MONTHLY_LIMITS).create(
        "o1", "O", Plan.TEAM_PRO, period="2026-11"
    )
    project = w.project_service.create("o1", "P", CONFIG)
    return {
        "orgs": w.orgs,
        "projects": w.projects,
        "tasks": w.tasks,
        "runs": w.runs,
        "svc": w.dataset_service,
        "ref": project.ref,
        "db": w.db,
        "world": w,
        # o1 owns o1/ in the data bucket "bkt"
        "locs": OrgLocations("o1", (DataLocation("bkt", "o1/"),)),
    }


def _connect(world: dict, prefix: str = "o1/cars/") -> Dataset:
    svc, ref = world["svc"], world["ref"]
    ds, _ = svc.connect(world["locs"], ref, DatasetSource("bkt", prefix=prefix))
    world["world"].loop.run_all()
    return svc.get(ref, ds.dataset_id)[0]


def test_connect_creates_one_backlog_task_per_image_and_reconnect_makes_fresh_ones(
    world: dict,
) -> None:
    # Given a project and a prefix holding five images
    svc, tasks, ref = world["svc"], world["tasks"], world["ref"]
    # When the dataset is connected and its import runs
    ds = _connect(world)
    first_ids = set(tasks.ids_in_state(ref, LabelingState.BACKLOG))
    # Then five BACKLOG tasks exist, counted in the project and the dataset
    assert tasks.counts(ref).by_state[LabelingState.BACKLOG] == 5
    assert ds.task_count == 5 and ds.status is DatasetStatus.READY
    assert len(first_ids) == 5
    # When it is reconnected
    svc.reconnect(world["locs"], ref, ds.dataset_id)
    world["world"].loop.run_all()
    second_ids = set(tasks.ids_in_state(ref, LabelingState.BACKLOG))
    # Then there are five new tasks and none of the old ones
    assert len(second_ids) == 5
    assert not first_ids & second_ids
    assert svc.get(ref, ds.dataset_id)[0].task_count == 5
    # When it is disconnected, its tasks go, and the dataset with them
    job = world["world"].loop.run(svc.disconnect(ref, ds.dataset_id))
    assert job.result == {"removed": 5}
    assert list(tasks.ids_in_state(ref, LabelingState.BACKLOG)) == []
    assert tasks.counts(ref).total == 0
    assert svc.list(ref) == []


def test_connect_of_an_own_prefix_without_images_ends_failed(world: dict) -> None:
    # Given a prefix of the organization's own folder that holds no images
    # When connecting it and its import runs
    ds = _connect(world, "o1/empty/")
    # Then the dataset is FAILED naming the prefix, and no task was created
    assert ds.status is DatasetStatus.FAILED
    assert ds.failure is not None and "o1/empty/" in ds.failure
    assert world["db"].tasks == {}


def test_moving_unknown_tasks_changes_nothing(world: dict) -> None:
    # Given five BACKLOG tasks
    tasks, ref = world["tasks"], world["ref"]
    _connect(world)
    ids = list(tasks.ids_in_state(ref, LabelingState.BACKLOG))
    # When moving two real ids and one unknown id to WAITING
    with pytest.raises(NotFound) as err:
        world["world"].task_service.move(
            ref,
            source=LabelingState.BACKLOG,
            target=LabelingState.WAITING,
            task_ids=[*ids[:2], "t_missing"],
        )
    # Then the unknown id is named and nothing moved
    assert "t_missing" in err.value.message
    assert list(tasks.ids_in_state(ref, LabelingState.WAITING)) == []


def test_move_all_and_disallowed_transitions(world: dict) -> None:
    # Given five BACKLOG tasks
    tasks, ref, w = world["tasks"], world["ref"], world["world"]
    _connect(world)
    # When all are moved to WAITING by a job
    job = w.task_service.move_all(ref, source=LabelingState.BACKLOG, target=LabelingState.WAITING)
    ended = w.loop.run(job)
    # Then all five are WAITING and eligible
    assert ended.result == {"moved": 5}
    assert tasks.counts(ref).eligible == 5
    # And moving WAITING -> COMPLETED is refused
    with pytest.raises(InvalidInput, match="COMPLETED"):
        w.task_service.move_all(ref, source=LabelingState.WAITING, target=LabelingState.COMPLETED)


def test_start_blockers_name_every_reason(world: dict) -> None:
    # Given an org on TEAM with nothing remaining, a project with no mapping and an active run
    orgs, ref, runs = world["orgs"], world["ref"], world["runs"]
    db = world["db"]
    db.orgs["o1"] = dataclasses.replace(db.orgs["o1"], plan=Plan.TEAM, remaining=0)
    db.runs[(ref, "run_1")] = Run(ref, "run_1", RunStatus.RUNNING, RunCounters(), "now")
    # When the assistant view is built
    view = AssistantService(orgs, world["projects"], world["tasks"]).view(
        ref, runs.get(ref, "run_1")
    )
    # Then start is impossible and each reason is listed
    assert not view.can_start
    text = " | ".join(view.blockers)
    assert "TEAM_PRO" in text
    assert "mapping has no rows" in text
    assert "0 remaining" in text
    assert "run_1" in text


def test_mapping_and_label_config_guard_each_other(world: dict) -> None:
    # Given a mapping car -> Vehicle
    projects, ref = world["projects"], world["ref"]
    world["world"].project_service.replace_mapping(ref, [MappingRowInput("car", "veh")], 0.4)
    assert projects.get(ref).default_threshold == 0.4
    # When the label configuration drops the Vehicle entry
    with pytest.raises(InvalidInput, match="'veh'"):
        world["world"].project_service.replace_label_config(
            ref, [LabelEntry("r", "Road", Geometry.POLYGON)]
        )
    # Then the mapping is unchanged; and while a run is active the mapping cannot change
    world["db"].projects[ref] = dataclasses.replace(projects.get(ref), active_run_id="run_1")
    with pytest.raises(Conflict):
        world["world"].project_service.replace_mapping(ref, [MappingRowInput("bus", "veh")], None)
    assert [r.class_name for r in projects.get(ref).mapping.rows] == ["car"]


def test_monthly_reset_restores_plan_amount_once_per_period(world: dict) -> None:
    # Given an organization that spent part of November
    orgs = world["orgs"]
    orgs.charge("o1", 1234)
    limits = {**DEFAULT_MONTHLY_LIMITS, Plan.TEAM_PRO: 5000}
    # When the reset runs for November again, then twice for December
    nov = MonthlyReset(orgs, orgs, limits).run("2026-11")
    dec1 = MonthlyReset(orgs, orgs, limits).run("2026-12")
    orgs.charge("o1", 10)
    dec2 = MonthlyReset(orgs, orgs, limits).run("2026-12")
    # Then November is untouched, December restores 5000 once, and the second run is a no-op
    assert nov.reset == [] and nov.already_reset == ["o1"]
    assert dec1.reset == ["o1"]
    assert dec2.reset == []
    assert orgs.remaining("o1") == 4990


def test_prelabel_state_is_reported_on_tasks(world: dict) -> None:
    # Given a task marked DONE
    tasks, ref = world["tasks"], world["ref"]
    _connect(world)
    ids = list(tasks.ids_in_state(ref, LabelingState.BACKLOG))
    world["db"].prelabels[(ref, ids[0])] = Prelabel(PrelabelState.DONE, "run_1")
    # Then it shows as pre-labeled and the others do not
    assert tasks.get(ref, ids[0]).prelabeled
    assert [tasks.get(ref, i).prelabeled for i in ids] == [True, False, False, False, False]
