"""A small project with known labels, shared by the export tests."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import replace

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
from prelabel.export_formats import ExportFormat, ExportSummary, write_export
from prelabel.quality.priority import REST_VALUE

REF = ProjectRef("org-1", "prj_1")
CONFIG = (
    LabelEntry("veh", "Vehicle", Geometry.BBOX),
    LabelEntry("road", "Road", Geometry.POLYGON),
    LabelEntry("per", "Person", Geometry.BBOX),
)
PROJECT = Project(REF, "Streets", CONFIG)


def label(
    entry_id: str, entry_name: str, box: tuple[float, float, float, float], score: float = 0.9
) -> Label:
    return Label(
        label_id=f"lbl-{entry_id}-{box[0]:g}",
        entry_id=entry_id,
        entry_name=entry_name,
        box=Box(*box),
        detector_class="car" if entry_id == "veh" else "person",
        score=score,
        model_name="yolox-s",
        model_version="0.4.4",
    )


def task(
    task_id: str,
    key: str,
    labels: tuple[Label, ...] = (),
    size: tuple[int, int] | None = (640, 480),
    dataset_id: str = "ds1",
    review_priority: int | None = REST_VALUE,
) -> Task:
    return Task(
        project=REF,
        task_id=task_id,
        dataset_id=dataset_id,
        bucket="data",
        image_key=key,
        state=LabelingState.WAITING,
        prelabel_state=PrelabelState.DONE if size else None,
        labels=labels,
        image_width=size[0] if size else None,
        image_height=size[1] if size else None,
        prelabel_run_id="run-1" if size else None,
        review_priority=review_priority if size else None,
    )


CAR = label("veh", "Vehicle", (64.0, 48.0, 192.0, 144.0), 0.91)
PERSON = label("per", "Person", (10.5, 20.25, 30.75, 100.0), 0.55)
# A box 0.012 above its threshold, 2 low-score boxes: near its threshold (key "001297").
NEAR_PRIORITY = 1297
TASKS = (
    task("t1", "street/a.jpg", (CAR, PERSON), review_priority=NEAR_PRIORITY),
    task("t2", "street/b.png", ()),
    task("t3", "street/c.jpg", (), size=None),
)


def _t(
    task_id: str, key: str, size: tuple[int, int] | None, *labels: Label, ds: str = "ds1"
) -> Task:
    t = task(task_id, key, labels, size, dataset_id=ds)
    return t if ds == "ds1" else replace(t, bucket="other-bucket")


# Keys that clash once flattened or across datasets, a folder named "images", a PNG, spaces,
# a box spilling over the edges, a label of an entry removed since, and an image not read yet.
MIXED = (
    _t("m1", "cam/1.jpg", (640, 480), CAR, PERSON),
    _t(
        "m2",
        "cam/1.jpg",
        (800, 600),
        label("per", "Person", (400.0, 300.0, 799.5, 599.5), 0.8),
        ds="ds2",
    ),
    _t("m3", "night/1.JPG", (320, 240), label("veh", "Vehicle", (-12.0, 200.0, 100.0, 260.0), 0.6)),
    _t(
        "m4",
        "images/street/b.png",
        (1024, 768),
        label("veh", "Vehicle", (1.25, 2.5, 1000.75, 700.0)),
    ),
    _t("m5", "my photos/café 2.jpg", (333, 517), label("gone", "Gone", (1.0, 1.0, 9.0, 9.0))),
    _t("m6", "late.jpg", None),
)
NAMES = {"veh": "Vehicle", "per": "Person"}


def export(
    project: Project, tasks: Iterable[Task], fmt: ExportFormat
) -> tuple[bytes, ExportSummary]:
    sink = io.BytesIO()
    summary = write_export(project, iter(tasks), fmt, sink, "2026-11-02T10:00:00+00:00")
    return sink.getvalue(), summary
