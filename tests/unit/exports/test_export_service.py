"""The export service pages through every task and writes each page before reading the next;
file names stay unique and inside the archive."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest

from prelabel.domain.entities import ProjectRef, Task
from prelabel.domain.errors import NotFound
from prelabel.domain.locations import DataLocation, OrgLocations
from prelabel.export_formats import ExportFormat
from prelabel.export_formats.common import FileNames
from prelabel.ports.tasks import TaskFilter, TaskPage
from prelabel.services.jobs import export_step
from prelabel.services.jobs.export_step import ExportWriter, iter_tasks
from tests.unit.exports.samples import CAR, PROJECT, REF, label, task
from tests.unit.fakes.store import MemoryProjects, MemoryTasks

# The sample tasks' images are in bucket "data"; org-1 may read all of it.
READABLE = OrgLocations("org-1", (DataLocation("data", ""),))


def _varied(i: int) -> Task:
    # Real exports differ from task to task; identical ones would compress to almost nothing
    # and sit in the compressor's window instead of reaching the sink.
    digest = hashlib.sha256(str(i).encode()).hexdigest()
    x, y = int(digest[:3], 16) % 500, int(digest[3:6], 16) % 400
    box = (x + int(digest[6], 16) / 16, float(y), x + 40.0 + i % 97, y + 30.0 + i % 53)
    return task(f"t{i:04d}", f"img/{digest[:16]}.jpg", (label("veh", "Vehicle", box),))


class PageWatch(MemoryTasks):
    """MemoryTasks noting how many bytes the export had written when each page was asked for."""

    def __init__(self, sink: io.BytesIO) -> None:
        super().__init__()
        self.sink = sink
        self.written_at_page: list[int] = []

    def list_tasks(
        self, ref: ProjectRef, flt: TaskFilter, limit: int, cursor: str | None
    ) -> TaskPage:
        self.written_at_page.append(len(self.sink.getvalue()))
        return super().list_tasks(ref, flt, limit, cursor)


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_export_writes_each_page_before_reading_the_next(
    fmt: ExportFormat, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 1,000 pre-labeled tasks, each with one car, read 200 per page
    monkeypatch.setattr(export_step, "EXPORT_PAGE_SIZE", 200)
    sink = io.BytesIO()
    projects, tasks = MemoryProjects(), PageWatch(sink)
    projects.create(PROJECT)
    tasks.add_many([_varied(i) for i in range(1000)])
    # When the project is exported
    summary = ExportWriter(projects, tasks).write(REF, fmt, sink, "now", locations=READABLE)
    # Then all five pages were read, and when the last was asked for, output of the earlier
    # ones had reached the sink (the compressor holds back at most its window): the export
    # streams instead of collecting every task first
    grown = tasks.written_at_page
    assert len(grown) == 5
    assert grown[1] < grown[4] < len(sink.getvalue()), grown
    # And every task and every box is in it
    assert (summary.images, summary.annotations) == (1000, 1000)
    if fmt is ExportFormat.COCO:
        doc = json.loads(sink.getvalue())
        assert len(doc["images"]) == len(doc["annotations"]) == 1000
    else:
        manifest = json.loads(zipfile.ZipFile(sink).read("prelabel_export.json"))
        assert [f["task_id"] for f in manifest["files"]] == [f"t{i:04d}" for i in range(1000)]


def test_iter_tasks_reads_every_page_whatever_its_size() -> None:
    # Given 23 tasks
    tasks = MemoryTasks()
    tasks.add_many([task(f"t{i:02d}", f"img/{i:02d}.jpg") for i in range(23)])
    # When read 5 and 500 per page
    small, large = list(iter_tasks(tasks, REF, 5)), list(iter_tasks(tasks, REF, 500))
    # Then both give every task once, in order
    assert (
        [t.task_id for t in small] == [t.task_id for t in large] == [f"t{i:02d}" for i in range(23)]
    )


def test_export_of_another_orgs_project_is_not_found_and_writes_nothing() -> None:
    # Given a project of org-1; When org-2 exports a project with the same id
    projects, tasks = MemoryProjects(), MemoryTasks()
    projects.create(PROJECT)
    tasks.add_many([task("t1", "a.jpg", (CAR,))])
    sink = io.BytesIO()
    # Then it does not exist for org-2, and not a byte was written
    with pytest.raises(NotFound):
        ExportWriter(projects, tasks).write(
            ProjectRef("org-2", "prj_1"),
            ExportFormat.YOLO,
            sink,
            "now",
            locations=OrgLocations("org-2", (DataLocation("data", ""),)),
        )
    assert sink.getvalue() == b""


@pytest.mark.parametrize(
    ("flat", "keys", "expected"),
    [
        pytest.param(
            False,
            # keys that collide across datasets, differ only in case or extension, or hold
            # climbing or absolute segments
            [
                ("cam/1.jpg", "ds1"),
                ("cam/1.jpg", "ds2"),
                ("cam/1.png", "ds2"),
                ("CAM/1.jpg", "ds1"),
                ("../../etc/passwd", "ds1"),
                ("/abs/./x.jpg", "ds1"),
            ],
            # unique without regard to case, relative, and free of ".." segments
            ["cam/1", "ds2/cam/1", "ds2/cam/1-t3", "ds1/CAM/1", "etc/passwd", "abs/x"],
            id="nested names cannot leave the archive",
        ),
        pytest.param(
            True,
            # one file name in several folders and datasets, and an image literally named like
            # another's fallback
            [
                ("a/1.jpg", "ds1"),
                ("b/1.jpg", "ds2"),
                ("c/1.jpg", "ds2"),
                ("1-t3.jpg", "ds1"),
                ("d/2.jpg", "ds1"),
                ("1-t7.jpg", "ds1"),
                ("e/1.jpg", "ds2"),
            ],
            # the stem kept where it is free; the dataset, then the task added on a clash
            ["1", "1-ds2", "1-t3", "1-t3-ds1", "2", "1-t7", "1-t7-2"],
            id="flat names add the dataset then the task",
        ),
    ],
)
def test_file_names_are_unique(
    flat: bool, keys: list[tuple[str, str]], expected: list[str]
) -> None:
    # Given tasks t1, t2, ... of these image keys and datasets
    tasks = [task(f"t{i}", key, dataset_id=ds) for i, (key, ds) in enumerate(keys, 1)]
    # When flat or nested names are given one task at a time
    names = FileNames(flat=flat)
    chosen = [names.name(t) for t in tasks]
    # Then each is the expected one: every name different, and inside the archive
    assert chosen == expected


def test_folders_named_images_are_renamed_where_asked() -> None:
    # Given a key with a folder named "images"
    t = task("t1", "shop/images/front.jpg")
    # When named for the Ultralytics layout
    # Then that folder is renamed, so the path holds "/images/" only where the layout puts it
    assert FileNames(flat=False, renamed_dirs={"images": "images_"}).name(t) == "shop/images_/front"
