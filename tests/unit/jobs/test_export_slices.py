"""A large export written in slices at the same time (three here) reads back, with the
libraries users open exports with, as the same export written in one step: every image, box
and file name, names that clash resolved the same way, valid zips (every member's CRC checked)."""

from __future__ import annotations

import dataclasses
import io
import json
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from prelabel.domain.entities import Label, PrelabelState, Task
from prelabel.domain.imports import task_id_for
from prelabel.domain.jobs import Job, JobStatus
from prelabel.domain.locations import DataLocation
from prelabel.export_formats import ExportFormat
from tests.unit.exports import readers
from tests.unit.exports.samples import label, task
from tests.unit.fakes.store import Prelabel
from tests.unit.jobs.conftest import BUCKET, SHARED, JobWorld

NAMES = {"veh": "Vehicle"}
CAR = label("veh", "Vehicle", (64.0, 48.0, 192.0, 144.0), 0.91)
VAN = label("veh", "Vehicle", (300.5, 20.25, 420.0, 200.0), 0.62)
# Keys whose names clash: the same file in two folders (flat layouts), one stem with two
# extensions, two keys that differ in case, and the same key in another dataset and bucket.
KEYS = [f"acme/cam{c}/{i:04d}.jpg" for c in (1, 2) for i in range(18)] + [
    "acme/cam1/x.jpg",
    "acme/cam1/x.png",
    "acme/cam1/Up.jpg",
    "acme/cam1/up.jpg",
    "acme/cam1/images/a.jpg",
]


def _plant(w: JobWorld) -> list[Task]:
    """The project's tasks, with ids spread as imports derive them; a third not pre-labeled
    yet, the others with 0 to 2 boxes."""
    tasks = []
    sources = [(BUCKET, "ds1", k) for k in KEYS] + [
        (SHARED, "ds2", KEYS[0]),
        (SHARED, "ds2", KEYS[5]),
    ]
    for n, (bucket, dataset, key) in enumerate(sources):
        labels: tuple[Label, ...] = ((), (CAR,), (CAR, VAN))[n % 3]
        size = None if n % 3 == 0 else (640, 480)
        base = task(task_id_for(dataset, 0, bucket, key), key, labels, size, dataset_id=dataset)
        tasks.append(dataclasses.replace(base, project=w.ref, bucket=bucket))
    w.tasks.add_many(
        [dataclasses.replace(t, labels=(), image_width=None, image_height=None) for t in tasks]
    )
    for t in tasks:
        if t.image_width:
            w.db.prelabels[(w.ref, t.task_id)] = Prelabel(
                PrelabelState.DONE, "run-1", t.labels, t.image_width, t.image_height
            )
    return tasks


def _export(w: JobWorld, fmt: ExportFormat) -> tuple[Job, bytes]:
    job = w.export_service.start(w.ref, fmt)
    ended = w.loop.run(job)
    assert ended.status is JobStatus.SUCCEEDED, ended.error
    return ended, w.objects.objects[(BUCKET, str(ended.result["key"]))]


def _both(w: JobWorld, fmt: ExportFormat) -> tuple[bytes, bytes, Job]:
    """The export written in one step, then in slices of 8 tasks, three at a time."""
    _, one = _export(w, fmt)
    ctx = w.job_runner.context
    ctx.limits = dataclasses.replace(ctx.limits, export_slice_tasks=8)
    barrier = threading.Barrier(3, timeout=10)
    calls = [0]

    def together(key: str, attempt: int) -> None:
        calls[0] += 1
        if calls[0] <= 3:
            barrier.wait()

    w.loop.before_slice = together
    job, sliced = _export(w, fmt)
    return one, sliced, job


@pytest.fixture
def tasks(w: JobWorld) -> list[Task]:
    """The tasks, the second dataset's in a bucket granted to acme."""
    w.orgs.add_grant("acme", DataLocation(SHARED, "acme/"))
    return _plant(w)


def _without_dates(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("created_at", "info")}


@pytest.mark.parametrize("fmt", [f for f in ExportFormat if f.is_archive])
def test_an_archive_in_slices_holds_the_same_files_as_one_written_in_one_step(
    w: JobWorld, tasks: list[Task], fmt: ExportFormat, tmp_path: Path
) -> None:
    # Given 43 tasks whose names clash, a third not pre-labeled yet
    # When the project is exported in one step, then in slices of 8 tasks, three at once
    one, sliced, job = _both(w, fmt)
    # Then the slices' export was planned in slices (twice: names, then files), ran three at
    # a time, and left no part behind
    assert len(w.db.plans[job.job_id][1]) == 6
    assert w.loop.most_at_once == 3
    assert not [k for (_, k) in w.objects.objects if "/parts/" in k]
    # And it is a valid zip (every member's CRC checked) holding the same members, byte for
    # byte, in the same order, but the manifest's date
    a, b = zipfile.ZipFile(io.BytesIO(one)), zipfile.ZipFile(io.BytesIO(sliced))
    assert b.testzip() is None
    assert a.namelist() == b.namelist()
    for name in a.namelist():
        if name == "prelabel_export.json":
            assert _without_dates(json.loads(a.read(name))) == _without_dates(
                json.loads(b.read(name))
            )
        else:
            assert a.read(name) == b.read(name), name
    # And a reader finds every image's boxes in it
    if fmt in (ExportFormat.YOLO_FLAT, ExportFormat.VOC):
        folder = tmp_path / fmt.value
        manifest = readers.unpack_with_images(sliced, folder, tasks)
        ds = (
            readers.sv.DetectionDataset.from_yolo(
                str(folder / "images"), str(folder / "labels"), str(folder / "data.yaml")
            )
            if fmt is ExportFormat.YOLO_FLAT
            else readers.sv.DetectionDataset.from_pascal_voc(
                str(folder / "JPEGImages"), str(folder / "Annotations")
            )
        )
        # (VOC's corners are whole pixels: the export tests' own tolerance)
        tolerance = 0.01 if fmt is ExportFormat.YOLO_FLAT else 1.5
        readers.assert_boxes_are_the_tasks(ds, folder, manifest, tasks, NAMES, tolerance)


def test_a_coco_export_in_slices_reads_back_as_the_one_written_in_one_step(
    w: JobWorld, tasks: list[Task], tmp_path: Path
) -> None:
    # Given 43 tasks whose names clash, a third not pre-labeled yet
    # When the project is exported to COCO in one step, then in slices
    one, sliced, _ = _both(w, ExportFormat.COCO)
    a, b = json.loads(one), json.loads(sliced)

    # Then both hold the same images (same file names, sizes and provenance) in the same
    # order, and the same boxes for each; ids differ (each slice numbers its own) but are
    # unique, and each annotation names its image
    def by_task(doc: dict[str, Any]) -> dict[str, Any]:
        ids = {i["id"]: i["prelabel_task_id"] for i in doc["images"]}
        assert len(ids) == len(doc["images"])
        boxes: dict[str, list[Any]] = {}
        for ann in doc["annotations"]:
            boxes.setdefault(ids[ann["image_id"]], []).append(
                (ann["category_id"], ann["bbox"], ann["score"])
            )
        images = [{k: v for k, v in i.items() if k != "id"} for i in doc["images"]]
        return {"images": images, "boxes": {k: sorted(v) for k, v in boxes.items()}}

    assert by_task(a) == by_task(b)
    assert len({x["id"] for x in b["annotations"]}) == len(b["annotations"]) == 2 * 14 + 14
    assert b["categories"] == a["categories"]
    # And a COCO reader opens it and finds every box of every image
    folder = tmp_path / "coco"
    for image in b["images"]:
        if image["width"]:
            readers.write_image(folder / image["file_name"], (image["width"], image["height"]))
    (folder / "coco.json").write_bytes(sliced)
    sized = [i for i in b["images"] if i["width"]]
    b["images"] = sized
    (folder / "sized.json").write_text(json.dumps(b))
    ds, ids = readers.coco_dataset(folder, folder / "sized.json")
    got = readers.dataset_boxes(ds, ids)
    want = readers.task_boxes(tasks, NAMES, clip=False)
    readers.assert_same_boxes(got, want, 0.01)


def test_a_last_step_that_died_after_deleting_the_parts_does_not_splice_again(
    w: JobWorld, tasks: list[Task]
) -> None:
    # Given an export in slices whose last step dies once, right after deleting the parts
    ctx = w.job_runner.context
    ctx.limits = dataclasses.replace(ctx.limits, export_slice_tasks=8)
    remove = w.export_files.remove
    died: list[str] = []

    def dies_after(keys: Any) -> None:
        remove(keys)
        if not died:
            died.append("x")
            raise RuntimeError("the last step died after deleting the parts")

    w.export_files.remove = dies_after  # type: ignore[method-assign]
    # When it runs (the step is run again, as the ASL's Retry does)
    job, data = _export(w, ExportFormat.VOC)
    # Then the file was spliced once, is whole, and no part is left
    assert died and w.export_files.spliced == [job.result["key"]]
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    assert not [k for (_, k) in w.objects.objects if "/parts/" in k]
