"""What makes `python -m prelabel_local.stack` ready to use: an organization on TEAM_PRO with a
project, photos under its folder connected as a dataset, tasks WAITING and the demo's mapping.

Built from the harness's steps (the ones tests and the demo use) over the in-process API, as
the organization's user: nothing here writes a table directly except the operator's part
(the organization itself). A stack started again on a persisted folder finds the
organization's project and seeds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prelabel.container import Container
from prelabel.domain.errors import NotFound
from prelabel.domain.imports import IMAGE_SUFFIXES
from prelabel.domain.period import current_period
from prelabel.domain.plans import Plan
from prelabel.domain.run_rules import Ending
from prelabel_local.demo_photos import Photo
from prelabel_local.demo_project import DEFAULT_THRESHOLD, LABEL_CONFIG, mapping_body
from prelabel_local.harness import (
    connect_dataset,
    create_project,
    move_tasks,
    put_objects,
    seed_organization,
)
from prelabel_local.http_events import InProcessApi

PROJECT_NAME = "Street and animals"


@dataclass(frozen=True)
class Ready:
    org_id: str
    project_id: str
    project_name: str
    prefix: str  # the organization's photos, under the data bucket
    tasks: int
    seeded: bool  # False: the organization had a project already (a persisted stack)


def photos_prefix(org_id: str) -> str:
    return f"{org_id}/photos/"


def folder_photos(folder: Path) -> Iterator[Photo]:
    """Every image file under `folder` (the suffixes the dataset connect takes), keeping
    sub-folders in the names."""
    if not folder.is_dir():
        raise FileNotFoundError(f"--photos: {folder} is not a folder")
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name.lower().endswith(IMAGE_SUFFIXES):
            yield Photo(path.relative_to(folder).as_posix(), path.read_bytes(), str(path))


def end_runs_of_a_previous_process(c: Container) -> list[str]:
    """Runs still active in persisted tables: their executions lived in the moto that stopped
    with the previous process, so nothing will ever finish them. Each ends as a stop would
    (committed work kept, nothing else charged), so the project can run again."""
    ended = []
    for org in c.orgs.iter_all():
        for project in c.projects.list_projects(org.org_id):
            if project.active_run_id:
                c.run_service.finish(project.ref, project.active_run_id, Ending.ABORTED)
                ended.append(project.active_run_id)
    return ended


def make_ready(c: Container, org_id: str, photos: list[Photo]) -> Ready:
    """The organization (on TEAM_PRO), its limit for this month, and a project with `photos`
    unless it has one already."""
    end_runs_of_a_previous_process(c)
    # No scheduler runs locally: do what it would have done since a persisted stack last ran.
    c.monthly_reset.run(current_period())
    try:
        c.orgs.get(org_id)
    except NotFound:
        seed_organization(c, org_id, plan=Plan.TEAM_PRO, name=f"{org_id} (local)")
    api = InProcessApi(org_id)
    projects: list[dict[str, Any]] = api.json("GET", "/projects")
    prefix = photos_prefix(org_id)
    if projects:
        first = projects[0]
        datasets = api.json("GET", f"/projects/{first['project_id']}/datasets")
        tasks = sum(int(d["task_count"]) for d in datasets)
        return Ready(org_id, str(first["project_id"]), str(first["name"]), prefix, tasks, False)
    if not photos:
        raise ValueError("no photos to seed the project with")
    bucket = c.settings.data_bucket or ""
    put_objects(bucket, ((prefix + p.name, p.body) for p in photos))
    project_id = create_project(api, PROJECT_NAME, LABEL_CONFIG)
    dataset = connect_dataset(api, project_id, bucket, prefix)
    move_tasks(api, project_id)
    api.json("PUT", f"/projects/{project_id}/mapping", mapping_body(DEFAULT_THRESHOLD))
    return Ready(org_id, project_id, PROJECT_NAME, prefix, int(dataset["task_count"]), True)
