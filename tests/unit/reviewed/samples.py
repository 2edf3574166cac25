"""A pre-labeled project, what its reviewers decided, and files in memory.

The project's export (Prelabel's own writers) goes to a review tool; people move, delete, add
and relabel boxes; the tool's export comes back. `REVIEWED` is what people left on each image,
in pixels: the tool simulations in `tools.py` write it in each tool's convention, and a round
trip must read back exactly this (within the rounding a format imposes).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping

from prelabel.domain.entities import (
    Box,
    Label,
    LabelingState,
    PrelabelState,
    Project,
    ProjectRef,
    Task,
)
from prelabel.domain.label_config import Geometry, LabelEntry

# The only import of Prelabel's export writers in these tests (the fixtures are their output).
from prelabel.export_formats import ExportFormat, write_export
from prelabel.reviewed import MatchedImage

REF = ProjectRef("org-1", "prj_r")
CONFIG = (
    LabelEntry("veh", "Vehicle", Geometry.BBOX),
    LabelEntry("road", "Road", Geometry.POLYGON),
    LabelEntry("per", "Person", Geometry.BBOX),
    LabelEntry("bike", "Bicycle", Geometry.BBOX),
)
PROJECT = Project(REF, "Streets", CONFIG)
NAMES = {"veh": "Vehicle", "per": "Person", "bike": "Bicycle"}
Corners = tuple[float, float, float, float]


def label(entry_id: str, box: Corners, score: float = 0.8, n: int = 0) -> Label:
    return Label(
        label_id=f"lbl-{entry_id}-{n}",
        entry_id=entry_id,
        entry_name=NAMES[entry_id],
        box=Box(*box),
        detector_class="car" if entry_id == "veh" else "person",
        score=score,
        model_name="yolox-s",
        model_version="0.4.4",
    )


def task(
    task_id: str,
    key: str,
    labels: Iterable[Label] = (),
    size: tuple[int, int] | None = (640, 480),
    bucket: str = "data",
) -> Task:
    return Task(
        project=REF,
        task_id=task_id,
        dataset_id="ds1",
        bucket=bucket,
        image_key=key,
        state=LabelingState.WAITING,
        prelabel_state=PrelabelState.DONE if size else None,
        labels=tuple(labels),
        image_width=size[0] if size else None,
        image_height=size[1] if size else None,
        prelabel_run_id="run-1" if size else None,
    )


# Pre-labels, whole pixels so that every format states them exactly.
TASKS = (
    task("t1", "street/a.jpg", [label("veh", (64, 48, 192, 144)), label("per", (10, 20, 30, 100))]),
    task("t2", "street/b.png", [label("veh", (300, 200, 420, 300))]),
    task(
        "t3",
        "park/c.jpg",
        [label("per", (100, 100, 180, 400)), label("bike", (150, 300, 350, 500))],
        size=(800, 600),
    ),
    task("t4", "park/d.jpg", [], size=(800, 600)),
    task("t5", "late/e.jpg", [], size=None),
)
TASK_SIZES = {t.task_id: (t.image_width, t.image_height) for t in TASKS}

# What the reviewers left: t1's car moved, its person deleted; t2's car relabelled Person;
# t3's boxes kept and a vehicle added; t4 got a person; t5 (not pre-labeled) a bicycle.
REVIEWED: Mapping[str, tuple[tuple[str, Corners], ...]] = {
    "t1": (("Vehicle", (74, 53, 202, 149)),),
    "t2": (("Person", (300, 200, 420, 300)),),
    "t3": (
        ("Person", (100, 100, 180, 400)),
        ("Bicycle", (150, 300, 350, 500)),
        ("Vehicle", (500, 250, 780, 420)),
    ),
    "t4": (("Person", (20, 30, 220, 590)),),
    "t5": (("Bicycle", (5, 10, 105, 90)),),
}
REVIEWED_SIZES = {**TASK_SIZES, "t5": (320, 240)}  # the tool read t5's image: 320x240
ENTRY_OF = {name: entry for entry, name in NAMES.items()}


def expected(task_ids: Iterable[str] = REVIEWED) -> dict[str, list[tuple[str, Corners]]]:
    return {t: sorted((ENTRY_OF[name], box) for name, box in REVIEWED[t]) for t in task_ids}


def imported(
    images: Iterable[MatchedImage], tolerance: float = 0.0
) -> dict[str, list[tuple[str, Corners]]]:
    """Each matched task's labels as (entry id, corners), corners rounded to `tolerance`'s
    precision where a format rounds (VOC: whole pixels)."""

    def rounded(v: float) -> float:
        return float(round(v)) if tolerance else round(v, 3)

    out = {}
    for image in images:
        out[image.task_id] = sorted(
            (lab.entry_id, tuple(rounded(v) for v in lab.box.as_list())) for lab in image.labels
        )
    return out  # type: ignore[return-value]


def prelabel_export(fmt: ExportFormat, tasks: Iterable[Task] = TASKS) -> bytes:
    sink = io.BytesIO()
    write_export(PROJECT, iter(tasks), fmt, sink, "2026-11-02T10:00:00+00:00")
    return sink.getvalue()


def zip_of(members: Mapping[str, bytes | str]) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return sink.getvalue()


def read_member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)
