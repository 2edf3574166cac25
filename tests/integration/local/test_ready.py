"""What makes the local stack ready to use, on DynamoDB Local and moto: the organization, a
project over photos under its folder (a folder of one's own here), and nothing twice."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from prelabel.container import Container
from prelabel.domain.period import current_period
from prelabel.domain.plans import Plan
from prelabel_local.demo_project import CLASS_MAP
from prelabel_local.harness import all_tasks, seed_organization
from prelabel_local.http_events import InProcessApi
from prelabel_local.ready import folder_photos, make_ready


def image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def own_photos(tmp_path: Path) -> Path:
    folder = tmp_path / "street"
    (folder / "day2").mkdir(parents=True)
    (folder / "a.JPG").write_bytes(image("JPEG"))
    (folder / "day2" / "b.png").write_bytes(image("PNG"))
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_a_folder_of_ones_own_becomes_a_ready_project(ports: Container, own_photos: Path) -> None:
    # Given no organization "acme" and a folder with two images (one in a sub-folder) and a note
    photos = list(folder_photos(own_photos))
    # When the stack is made ready for acme with that folder
    ready = make_ready(ports, "acme", photos)
    # Then acme is on TEAM_PRO with one project whose two images are WAITING, under acme/photos/,
    # mapped as in the demo
    api = InProcessApi("acme")
    tasks = all_tasks(api, ready.project_id)
    mapping = api.json("GET", f"/projects/{ready.project_id}/mapping")
    assert ports.orgs.get("acme").plan == Plan.TEAM_PRO
    assert (ready.seeded, ready.tasks) == (True, 2)
    assert sorted(t["image_key"] for t in tasks) == ["acme/photos/a.JPG", "acme/photos/day2/b.png"]
    assert {t["state"] for t in tasks} == {"WAITING"}
    assert len(mapping["rows"]) == sum(len(classes) for classes in CLASS_MAP.values())


def test_a_restart_seeds_nothing_twice_and_opens_the_month(
    ports: Container, own_photos: Path
) -> None:
    # Given acme made ready in an earlier month (its data kept), with 5 units left then
    photos = list(folder_photos(own_photos))
    seed_organization(ports, "acme", plan=Plan.TEAM_PRO, remaining=5, period="2000-01")
    first = make_ready(ports, "acme", photos)
    # When the stack is made ready again on the same data
    again = make_ready(ports, "acme", photos)
    # Then the same project is found with its tasks, and this month's limit is the plan's
    assert (again.seeded, again.project_id, again.tasks) == (False, first.project_id, 2)
    assert len(InProcessApi("acme").json("GET", "/projects")) == 1
    org = ports.orgs.get("acme")
    assert (org.period, org.remaining) == (current_period(), 10_000)


def test_a_run_left_active_by_a_stopped_stack_is_ended(ports: Container, own_photos: Path) -> None:
    # Given a ready project whose run was RUNNING when the previous stack process stopped (its
    # execution gone with that process's moto)
    ready = make_ready(ports, "acme", list(folder_photos(own_photos)))
    ref = ports.projects.list_projects("acme")[0].ref
    gone = "arn:aws:states:us-east-1:123456789012:execution:prelabel-local:gone"
    started = ports.run_service.start(ref, confirm=True, execution_arn=gone)
    api = InProcessApi("acme")
    stuck = api.call("GET", f"/projects/{ready.project_id}/runs/current")
    # When the stack is made ready again on the same data
    make_ready(ports, "acme", [])
    # Then the run is STOPPED, the project is free to run again and its progress reads
    run = api.json("GET", f"/projects/{ready.project_id}/runs/current")
    assert stuck.status >= 500  # what the page would have shown for ever
    assert (run["run_id"], run["status"]) == (started.run.run_id, "STOPPED")
    assert ports.projects.get(ref).active_run_id is None
    assert api.json("GET", f"/projects/{ready.project_id}/assistant")["can_start"] is True


def test_a_folder_without_images_is_refused(tmp_path: Path) -> None:
    # Given a folder with no image in it
    (tmp_path / "readme.txt").write_text("x")
    # When its photos are read
    # Then none are found, and a missing folder is named
    assert list(folder_photos(tmp_path)) == []
    with pytest.raises(FileNotFoundError, match="nowhere"):
        list(folder_photos(tmp_path / "nowhere"))
