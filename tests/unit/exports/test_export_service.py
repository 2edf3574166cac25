"""The export service pages through every task; file names stay unique and inside the archive."""

from __future__ import annotations

import json

import pytest

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import NotFound
from prelabel.domain.locations import DataLocation, OrgLocations
from prelabel.exports.bundle import ExportFormat
from prelabel.exports.common import file_stems
from prelabel.services.exports import all_tasks, export_project
from tests.unit.core.fakes import MemoryProjects, MemoryTasks
from tests.unit.exports.samples import CAR, PROJECT, REF, task

# The sample tasks' images are in bucket "data"; org-1 may read all of it.
READABLE = OrgLocations("org-1", (DataLocation("data", ""),))


def test_export_reads_every_page_of_tasks() -> None:
    # Given 23 pre-labeled tasks, each with one car, read 5 per page
    projects, tasks = MemoryProjects(), MemoryTasks()
    projects.create(PROJECT)
    tasks.add_many([task(f"t{i:02d}", f"img/{i:02d}.jpg", (CAR,)) for i in range(23)])
    # When the project is exported as COCO
    bundle = export_project(projects, tasks, REF, ExportFormat.COCO, "now", locations=READABLE)
    small_pages = all_tasks(tasks, REF, page_size=5)
    # Then every task and every box is in it, whatever the page size
    doc = json.loads(bundle.content())
    assert len(doc["images"]) == 23 and len(doc["annotations"]) == 23
    assert [t.task_id for t in small_pages] == [f"t{i:02d}" for i in range(23)]


def test_export_of_another_orgs_project_is_not_found() -> None:
    # Given a project of org-1; When org-2 exports a project with the same id
    projects, tasks = MemoryProjects(), MemoryTasks()
    projects.create(PROJECT)
    tasks.add_many([task("t1", "a.jpg", (CAR,))])
    # Then it does not exist for org-2
    with pytest.raises(NotFound):
        export_project(
            projects,
            tasks,
            ProjectRef("org-2", "prj_1"),
            ExportFormat.YOLO,
            "now",
            locations=OrgLocations("org-2", (DataLocation("data", ""),)),
        )


def test_file_names_are_unique_and_cannot_leave_the_archive() -> None:
    # Given keys that collide across datasets and keys with climbing or absolute segments
    tasks = [
        task("t1", "cam/1.jpg", dataset_id="ds1"),
        task("t2", "cam/1.jpg", dataset_id="ds2"),
        task("t3", "cam/1.png", dataset_id="ds2"),
        task("t4", "../../etc/passwd", dataset_id="ds1"),
        task("t5", "/abs/./x.jpg", dataset_id="ds1"),
    ]
    # When file stems are chosen
    stems = file_stems(tasks)
    # Then each is unique, relative, and free of ".." segments
    assert stems == {
        "t1": "cam/1",
        "t2": "ds2/cam/1",
        "t3": "ds2/cam/1-t3",
        "t4": "etc/passwd",
        "t5": "abs/x",
    }
